//! EMV Book 2 cryptograms (to be written).
