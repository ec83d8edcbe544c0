// The console's few behaviours, in a file rather than inline: the console's CSP runs only scripts from the site.
(function () {
  "use strict";

  function ready() {
    // The header's print button.
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });

    // "คัดลอกข้อความ": the ITAS sentence to the clipboard (the box stays selectable by hand without JS).
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var box = document.getElementById(button.getAttribute("data-copy"));
        if (!box) { return; }
        box.select();
        var done = function () { button.textContent = "คัดลอกแล้ว"; };
        if (navigator.clipboard) {
          navigator.clipboard.writeText(box.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });

    // On a narrow screen the year table opens at the current month rather than at October.
    var box = document.querySelector("[data-scroll-current]");
    var th = box && box.querySelector("th.current");
    if (th && box.scrollWidth > box.clientWidth) {
      box.scrollLeft = Math.max(0, th.offsetLeft - 160);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }

  // Opened from a "กรุณากรอก" link: put the cursor in that field (without JS the first one has autofocus).
  window.addEventListener("load", function () {
    var target = location.hash.indexOf("#fill-") === 0 && document.getElementById(location.hash.slice(1));
    var input = target && target.querySelector("input, select, textarea");
    if (input) { input.focus(); }
  });
})();
