// The demo LMS's side of LTI Dynamic Registration §3.6.3: when the tool in the frame says it is done, close it.
(function () {
  var frame = document.getElementById("registration-frame");
  if (!frame) { return; }
  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow) { return; }
    if (event.data && event.data.subject === "org.imsglobal.lti.close") {
      window.location.assign(frame.getAttribute("data-done"));
    }
  });
})();
