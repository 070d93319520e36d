// Fingerprint or face (WebAuthn) on the wallet's pages. The page cannot
// read the person's session token, so each challenge comes from the
// wallet's own endpoints (this site only, with the form's CSRF token):
// - a form marked `data-passkey-register="URL"` (adding one) first sends
//   its fields, the confirmation among them, to URL; with the options it
//   answers, the device makes a passkey, and the form goes on as usual
//   (wallet.js) with the answer in its `challenge_id` and `credential`
//   fields. A refusal comes back as the page itself, the field marked.
// - a `data-passkey-use` button (wallet/confirm_passkey.html) asks its
//   `data-challenge` URL for an assertion challenge, has the device answer
//   it, puts `{challenge_id, credential}` into the form's `webauthn` field
//   and submits the form with its main button.
// Words shown come from the status element's data attributes.
(function () {
  'use strict';

  // The page includes this once per form that may need it.
  var root = document.documentElement;
  if (root.dataset.passkeyReady === 'yes') {
    return;
  }
  root.dataset.passkeyReady = 'yes';

  function fromBase64url(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) {
      base64 += '=';
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function say(box, word) {
    if (box) {
      box.textContent = box.dataset[word] || '';
    }
  }

  function supported() {
    return !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json'
      }
    });
  }

  function isJson(response) {
    return (response.headers.get('content-type') || '').indexOf('application/json') !== -1;
  }

  // The server's refusal, as the page it rendered.
  function showPage(response) {
    return response.text().then(function (html) {
      document.open();
      document.write(html);
      document.close();
    });
  }

  // Secrets typed for the confirmation are spent once it is made: they are
  // not sent a second time.
  function forget(form) {
    ['payment_password', 'sms_code'].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value !== undefined) {
        field.value = '';
      }
    });
  }

  function mainButton(form) {
    return form.querySelector('button[type=submit]:not([name=send_code])');
  }

  function register(form, submitter) {
    var box = form.querySelector('[data-register-status]');
    if (!supported()) {
      say(box, 'unsupported');
      return;
    }
    if (form.dataset.passkeyBusy === 'yes') {
      return;
    }
    form.dataset.passkeyBusy = 'yes';
    say(box, 'working');
    var done = function (word) {
      form.dataset.passkeyBusy = '';
      say(box, word);
    };
    var body = new URLSearchParams(new FormData(form)).toString();
    post(form.dataset.passkeyRegister, body).then(function (response) {
      if (!isJson(response)) {
        return showPage(response);
      }
      return response.json().then(function (challenge) {
        var options = challenge.options.publicKey;
        options.challenge = fromBase64url(options.challenge);
        options.user.id = fromBase64url(options.user.id);
        (options.excludeCredentials || []).forEach(function (held) {
          held.id = fromBase64url(held.id);
        });
        return navigator.credentials.create({ publicKey: options }).then(function (made) {
          form.elements.challenge_id.value = challenge.challenge_id;
          form.elements.credential.value = JSON.stringify({
            id: made.id,
            rawId: toBase64url(made.rawId),
            type: made.type,
            response: {
              attestationObject: toBase64url(made.response.attestationObject),
              clientDataJSON: toBase64url(made.response.clientDataJSON)
            },
            extensions: {}
          });
          forget(form);
          form.dataset.passkeyBusy = '';
          form.dataset.passkeyAnswered = 'yes';
          say(box, '');
          form.requestSubmit(submitter || mainButton(form));
        }, function () {
          done('cancelled');
        });
      });
    }).catch(function () {
      done('failed');
    });
  }

  // Capture: before wallet.js sends the form, the passkey is made.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.dataset || !('passkeyRegister' in form.dataset)) {
      return;
    }
    var submitter = event.submitter;
    if (submitter && submitter.name === 'send_code') {
      return;
    }
    if (form.dataset.passkeyAnswered === 'yes' || form.elements.credential.value) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    register(form, submitter);
  }, true);

  function confirmWith(button) {
    var form = button.form;
    var box = button.parentNode.querySelector('[data-passkey-status]');
    if (!form) {
      return;
    }
    if (!supported()) {
      say(box, 'unsupported');
      return;
    }
    if (button.getAttribute('aria-disabled') === 'true') {
      return;
    }
    button.setAttribute('aria-disabled', 'true');
    var done = function (word) {
      button.removeAttribute('aria-disabled');
      say(box, word);
    };
    say(box, 'working');
    var csrf = form.elements.csrf ? form.elements.csrf.value : '';
    post(button.dataset.challenge, new URLSearchParams({ csrf: csrf }).toString()).then(function (response) {
      if (!response.ok || !isJson(response)) {
        var refused = isJson(response) ? response.json() : Promise.reject(new Error('refused'));
        return refused.then(function (refusal) {
          button.removeAttribute('aria-disabled');
          if (box) {
            box.textContent = [refusal.message, refusal.remedy].filter(Boolean).join(' ');
          }
        }, function () {
          done('failed');
        });
      }
      return response.json().then(function (challenge) {
        var options = challenge.options.publicKey;
        options.challenge = fromBase64url(options.challenge);
        (options.allowCredentials || []).forEach(function (held) {
          held.id = fromBase64url(held.id);
        });
        return navigator.credentials.get({ publicKey: options }).then(function (answer) {
          form.elements.webauthn.value = JSON.stringify({
            challenge_id: challenge.challenge_id,
            credential: {
              id: answer.id,
              rawId: toBase64url(answer.rawId),
              type: answer.type,
              response: {
                authenticatorData: toBase64url(answer.response.authenticatorData),
                clientDataJSON: toBase64url(answer.response.clientDataJSON),
                signature: toBase64url(answer.response.signature),
                userHandle: toBase64url(answer.response.userHandle)
              },
              extensions: {}
            }
          });
          forget(form);
          button.removeAttribute('aria-disabled');
          say(box, '');
          form.requestSubmit(mainButton(form));
        }, function () {
          done('cancelled');
        });
      });
    }).catch(function () {
      done('failed');
    });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('[data-passkey-use]') : null;
    if (button) {
      event.preventDefault();
      confirmWith(button);
    }
  });
})();
