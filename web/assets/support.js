// The contact-support page: fills its hidden device fields with what the
// browser says of itself, so that support reads the model, system and
// network without asking. Without this script the server reads what it can
// from the User-Agent instead.
(function () {
  'use strict';

  function set(name, value) {
    var field = document.querySelector('input[type=hidden][name="' + name + '"]');
    if (field && value) {
      field.value = String(value).slice(0, 120);
    }
  }

  // The browser's name and major version, from its brands (the
  // placeholder brands it adds are left out).
  function browserOf(brands) {
    var best = null;
    for (var i = 0; i < (brands || []).length; i++) {
      var brand = brands[i];
      if (/not.a.brand/i.test(brand.brand)) {
        continue;
      }
      if (!best || brand.brand !== 'Chromium') {
        best = brand;
      }
    }
    return best ? best.brand + ' ' + String(best.version).split('.')[0] : '';
  }

  function fromAgent() {
    var agent = navigator.userAgent || '';
    var os = '';
    var android = /Android [\d.]+/.exec(agent);
    var ios = /(?:iPhone|iPad)[^)]*? OS ([\d_]+)/.exec(agent);
    if (android) {
      os = android[0];
    } else if (ios) {
      os = 'iOS ' + ios[1].replace(/_/g, '.');
    } else if (/Windows/.test(agent)) {
      os = 'Windows';
    } else if (/Mac OS X ([\d_]+)/.test(agent)) {
      os = 'macOS ' + /Mac OS X ([\d_]+)/.exec(agent)[1].replace(/_/g, '.');
    } else if (/CrOS/.test(agent)) {
      os = 'ChromeOS';
    } else if (/Linux/.test(agent)) {
      os = 'Linux';
    }
    var model = '';
    var androidModel = /Android [\d.]+; ([^;)]+?)(?: Build|\))/.exec(agent);
    if (androidModel && androidModel[1] !== 'K') {
      model = androidModel[1];
    } else if (/iPad/.test(agent)) {
      model = 'iPad';
    } else if (/iPhone/.test(agent)) {
      model = 'iPhone';
    } else {
      var browser = /(Edg|Firefox|Chrome|Version)\/(\d+)/.exec(agent);
      if (browser) {
        var names = { Edg: 'Edge', Version: 'Safari' };
        model = (names[browser[1]] || browser[1]) + ' ' + browser[2];
      }
    }
    set('device_model', model);
    set('device_os', os);
  }

  var connection = navigator.connection || navigator.mozConnection || navigator.webkitConnection;
  if (connection && connection.effectiveType) {
    set('device_network', connection.effectiveType);
  }
  set('device_locale', navigator.language);

  var data = navigator.userAgentData;
  if (data && data.getHighEntropyValues) {
    set('device_os', data.platform);
    set('device_model', browserOf(data.brands));
    data.getHighEntropyValues(['model', 'platformVersion']).then(function (more) {
      if (more.model) {
        set('device_model', more.model);
      }
      if (more.platformVersion) {
        set('device_os', data.platform + ' ' + more.platformVersion);
      }
    }, fromAgent);
  } else {
    fromAgent();
  }
})();
