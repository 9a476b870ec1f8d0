// Submit the page's first form at once (LTI auto-post pages); a button inside <noscript> covers no-JS browsers.
document.forms[0].submit();
