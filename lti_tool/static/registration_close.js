// LTI Dynamic Registration §3.6.3: tell the platform that registration is done so it can close this window.
(function () {
  var target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) { target.postMessage({subject: "org.imsglobal.lti.close"}, "*"); }
})();
