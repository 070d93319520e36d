// The web wallet's shared script. Pages work without it; with it:
// - a form marked `data-send` is sent by fetch, so that a dropped
//   connection leaves the person on the page with a plain message and a
//   Retry button that sends the very same form again (its hidden
//   idempotency key included: the server answers a retry with the first
//   answer instead of doing it twice);
// - a button with `data-countdown="N"` waits N seconds before it can be
//   pressed (sending another text-message code).
(function () {
  'use strict';

  var pending = null;

  function showNetworkProblem(form, body, submitter) {
    var box = document.getElementById('network-problem');
    if (!box) {
      return;
    }
    pending = { form: form, body: body, submitter: submitter };
    box.hidden = false;
    var retry = document.getElementById('network-retry');
    if (retry) {
      retry.focus();
    }
  }

  function release(form) {
    form.dataset.sent = '';
    var buttons = form.querySelectorAll('button[type=submit]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].removeAttribute('aria-disabled');
    }
  }

  function show(response) {
    return response.text().then(function (html) {
      if (response.redirected) {
        window.location.assign(response.url);
        return;
      }
      document.open();
      document.write(html);
      document.close();
    });
  }

  function send(form, body, submitter) {
    var box = document.getElementById('network-problem');
    if (box) {
      box.hidden = true;
    }
    // `getAttribute`: a field named `action` would hide `form.action`.
    return fetch(form.getAttribute('action') || window.location.href, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'follow'
    }).then(show, function () {
      release(form);
      showNetworkProblem(form, body, submitter);
    });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.dataset.sent === 'yes') {
      event.preventDefault();
      return;
    }
    if (!('send' in form.dataset) || !window.fetch) {
      form.dataset.sent = 'yes';
      return;
    }
    event.preventDefault();
    form.dataset.sent = 'yes';
    var buttons = form.querySelectorAll('button[type=submit]');
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute('aria-disabled', 'true');
    }
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var body = new URLSearchParams(data).toString();
    send(form, body, submitter);
  });

  document.addEventListener('click', function (event) {
    if (event.target.id !== 'network-retry' || !pending) {
      return;
    }
    var again = pending;
    pending = null;
    again.form.dataset.sent = 'yes';
    // Marked as a retry: a confirmation the first sending spent is not
    // asked for again when that sending went through (web/wallet/confirm.rs).
    var body = /(^|&)retry=1(&|$)/.test(again.body) ? again.body : again.body + '&retry=1';
    send(again.form, body, again.submitter);
  });

  function countdown(button) {
    var left = parseInt(button.dataset.countdown, 10) || 0;
    if (left <= 0) {
      return;
    }
    var label = button.textContent;
    var wait = button.dataset.wait || '';
    button.disabled = true;
    var status = document.createElement('span');
    status.className = 'meta';
    status.setAttribute('aria-live', 'polite');
    button.insertAdjacentElement('afterend', status);
    var tick = function () {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        status.textContent = '';
        return;
      }
      status.textContent = ' ' + left + wait;
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  var waiting = document.querySelectorAll('[data-countdown]');
  for (var i = 0; i < waiting.length; i++) {
    countdown(waiting[i]);
  }
})();
