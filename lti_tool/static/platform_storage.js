// LTI platform storage (1EdTech "LTI Client Side postMessages"): keep the login's state and nonce in the
// platform's frame when this browser drops the tool's third-party cookies, and read them back at launch.
(function () {
  "use strict";
  var el = document.getElementById("lti-storage");
  if (!el) { return; }
  var mode = el.dataset.mode, target = el.dataset.target, origin = el.dataset.origin, state = el.dataset.state;
  var nonce = el.dataset.nonce;

  function storageFrame() {
    var host = window.opener || window.parent;
    if (!host || host === window) { return null; }
    if (target === "_parent") { return host; }
    try { return host.frames[target] || null; } catch (e) { return null; }
  }

  function ask(message) {
    return new Promise(function (resolve, reject) {
      var frame = storageFrame();
      if (!frame) { reject(new Error("no platform frame")); return; }
      message.message_id = "plc-" + Math.random().toString(36).slice(2);
      function onMessage(event) {
        if (event.origin !== origin || !event.data || event.data.message_id !== message.message_id) { return; }
        window.removeEventListener("message", onMessage);
        if (event.data.error) { reject(new Error(event.data.error.code || "error")); } else { resolve(event.data); }
      }
      window.addEventListener("message", onMessage);
      frame.postMessage(message, origin);
      setTimeout(function () { window.removeEventListener("message", onMessage); reject(new Error("timeout")); }, 3000);
    });
  }

  if (mode === "login") {
    Promise.all([
      ask({ subject: "lti.put_data", key: "state_" + state, value: state }),
      ask({ subject: "lti.put_data", key: "nonce_" + nonce, value: nonce })
    ]).catch(function () { /* the state cookie may still work; the launch decides */ })
      .then(function () { window.location.replace(el.dataset.next); });
  } else {
    var form = document.getElementById("lti-relaunch");
    ask({ subject: "lti.get_data", key: "state_" + state })
      .then(function (answer) {
        if (answer.value !== state) { throw new Error("mismatch"); }
        form.elements.lti_storage_verified.value = "1";
        form.submit();
      })
      .catch(function () { document.getElementById("lti-storage-failed").hidden = false; });
  }
})();
