// The console's only script: a form is sent once, even if its button is
// pressed twice (a second reply would reach the person twice).
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (form.dataset.sent === 'yes') {
    event.preventDefault();
    return;
  }
  form.dataset.sent = 'yes';
  var buttons = form.querySelectorAll('button[type=submit]');
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].setAttribute('aria-disabled', 'true');
  }
});
