// The add-card page's script (web/templates/wallet/card_new.html). The
// page works without it; with it:
// - the card number is spaced in fours as it is typed;
// - its first six digits show the bank, brand and card type (the page's
//   own /cards/bin/ lookup: a script cannot hold the person's token), and
//   the expiry date and security code are asked for only when the card
//   needs them (hidden fields are disabled, so never required or sent);
// - the number's length and check digit, the expiry date and the security
//   code are checked before sending, shown in the very words the server's
//   refusals use (the page renders them, hidden, from the catalogue).
(function () {
  'use strict';

  var form = document.querySelector('form[data-card-form]');
  if (!form) {
    return;
  }
  var number = document.getElementById('number');
  var expiry = document.getElementById('expiry');
  var cvc = document.getElementById('cvc');
  var extra = document.getElementById('card-extra');
  var binBox = document.getElementById('number-bin');
  var lastPrefix = '';
  var cvcLength = 3;

  var fields = [number, expiry, cvc];
  for (var f = 0; f < fields.length; f++) {
    fields[f].dataset.describedby = (fields[f].getAttribute('aria-describedby') || '')
      .replace(/\S+-problem/g, '').trim();
  }

  function digits(text) {
    return text.replace(/\D/g, '');
  }

  function setExtra(needed) {
    extra.hidden = !needed;
    [expiry, cvc].forEach(function (input) {
      input.disabled = !needed;
      input.required = needed;
    });
  }

  function showBin(label, message) {
    binBox.textContent = label || '';
    if (message) {
      if (label) {
        binBox.appendChild(document.createElement('br'));
      }
      var strong = document.createElement('strong');
      strong.textContent = message;
      binBox.appendChild(strong);
    }
  }

  function lookup(prefix) {
    if (prefix.length < 6) {
      if (lastPrefix) {
        lastPrefix = '';
        showBin('', '');
        setExtra(false);
      }
      return;
    }
    if (prefix === lastPrefix) {
      return;
    }
    lastPrefix = prefix;
    fetch(number.dataset.binUrl + prefix, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (bin) {
      if (!bin || prefix !== lastPrefix) {
        return;
      }
      if (!bin.known) {
        showBin('', bin.message);
        setExtra(false);
        return;
      }
      showBin(bin.label, bin.supported ? '' : bin.message);
      cvcLength = bin.cvc_length || 3;
      setExtra(!!bin.needs_expiry_and_cvc);
    }, function () {
      // No answer: the server's own checks still answer when it is sent.
    });
  }

  number.addEventListener('input', function () {
    var caret = number.selectionStart || 0;
    var before = digits(number.value.slice(0, caret)).length;
    var raw = digits(number.value).slice(0, 19);
    var grouped = raw.replace(/(\d{4})(?=\d)/g, '$1 ');
    if (grouped !== number.value) {
      number.value = grouped;
      // The caret stays after the same digit.
      var at = 0;
      var seen = 0;
      while (at < grouped.length && seen < before) {
        if (grouped.charAt(at) !== ' ') {
          seen += 1;
        }
        at += 1;
      }
      number.setSelectionRange(at, at);
    }
    lookup(raw.slice(0, 6));
  });

  expiry.addEventListener('input', function () {
    // "0829" reads as "08/29".
    if (/^\d{3,4}$/.test(expiry.value)) {
      expiry.value = expiry.value.slice(0, 2) + '/' + expiry.value.slice(2);
    }
  });

  function luhn(text) {
    var sum = 0;
    var twice = false;
    for (var i = text.length - 1; i >= 0; i--) {
      var n = text.charCodeAt(i) - 48;
      if (twice) {
        n *= 2;
        if (n > 9) {
          n -= 9;
        }
      }
      sum += n;
      twice = !twice;
    }
    return sum % 10 === 0;
  }

  // Which check, if any, a field fails: the id of its hidden words.
  function numberCheck() {
    var text = number.value.replace(/[\s-]/g, '');
    if (!/^\d{12,19}$/.test(text)) {
      return 'number-check-format';
    }
    return luhn(text) ? '' : 'number-check-digit';
  }

  function expiryCheck() {
    var match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(expiry.value);
    if (!match) {
      return 'expiry-check-format';
    }
    var month = parseInt(match[1], 10);
    var year = parseInt(match[2], 10);
    if (year < 100) {
      year += 2000;
    }
    if (month < 1 || month > 12) {
      return 'expiry-check-format';
    }
    var now = new Date();
    var thisYear = now.getFullYear();
    var thisMonth = now.getMonth() + 1;
    if (year < thisYear || (year === thisYear && month < thisMonth)) {
      return 'expiry-check-past';
    }
    return '';
  }

  function cvcCheck() {
    var text = cvc.value.trim();
    return /^\d+$/.test(text) && text.length === cvcLength ? '' : 'cvc-check';
  }

  function mark(input, check) {
    var boxes = form.querySelectorAll('[data-check="' + input.name + '"]');
    for (var i = 0; i < boxes.length; i++) {
      boxes[i].hidden = boxes[i].id !== check;
    }
    // The server's refusal of the last sending is about what was sent then.
    var old = document.getElementById(input.name + '-problem');
    if (old) {
      old.hidden = true;
    }
    var described = input.dataset.describedby;
    if (check) {
      input.setAttribute('aria-invalid', 'true');
      described = (described + ' ' + check).trim();
    } else {
      input.removeAttribute('aria-invalid');
    }
    if (described) {
      input.setAttribute('aria-describedby', described);
    } else {
      input.removeAttribute('aria-describedby');
    }
    return !check;
  }

  // On the form itself, so that it runs before the wallet's script sends
  // it (that one listens on the document).
  form.addEventListener('submit', function (event) {
    var failed = null;
    if (!mark(number, numberCheck())) {
      failed = number;
    }
    if (!extra.hidden) {
      if (!mark(expiry, expiryCheck())) {
        failed = failed || expiry;
      }
      if (!mark(cvc, cvcCheck())) {
        failed = failed || cvc;
      }
    }
    if (failed) {
      event.preventDefault();
      event.stopPropagation();
      failed.focus();
    }
  });

  setExtra(false);
  if (number.value) {
    lookup(digits(number.value).slice(0, 6));
  }
})();
