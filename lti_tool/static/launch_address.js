// This page came in the answer to a launch (a form the platform posted): put the page's own address in the history,
// so that reloading the page, or coming back to it, asks for it again and does not post the launch a second time.
(function () {
  var address = document.currentScript && document.currentScript.getAttribute("data-launch-address");
  if (address && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", address);
  }
})();
