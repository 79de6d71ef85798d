/* Confirmation before an irreversible step (确认生效, 确认本月结算, 结账, 全部接受, 冲销 …).
   A form, or the submit button that sends it, carries data-confirm="what will happen"; on submit a
   dialog shows that text with 确定 / 取消, and the form is sent only after 确定.
   Kept out of the templates: the Content-Security-Policy allows no inline script. The text is put
   in with textContent, never as HTML. */
(function () {
  "use strict";
  var dialog, text, yes, pending;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("data-testid", "confirm-dialog");
    var title = document.createElement("h2");
    title.textContent = "请确认";
    text = document.createElement("p");
    text.setAttribute("data-testid", "confirm-text");
    var buttons = document.createElement("div");
    buttons.className = "confirm-buttons";
    yes = document.createElement("button");
    yes.type = "button";
    yes.textContent = "确定";
    yes.setAttribute("data-testid", "confirm-yes");
    var no = document.createElement("button");
    no.type = "button";
    no.className = "secondary";
    no.textContent = "取消";
    no.setAttribute("data-testid", "confirm-no");
    buttons.appendChild(yes);
    buttons.appendChild(no);
    dialog.appendChild(title);
    dialog.appendChild(text);
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);
    no.addEventListener("click", function () { pending = null; dialog.close(); });
    yes.addEventListener("click", function () {
      var go = pending;
      pending = null;
      dialog.close();
      if (go) { go(); }
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var button = ev.submitter || null;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (!message || form.dataset.confirmed === "1") { return; }
    ev.preventDefault();
    if (!dialog) { build(); }
    text.textContent = message;
    pending = function () {
      form.dataset.confirmed = "1";
      if (button && button.name) {  // keep the button's name=value (e.g. action=confirm)
        var carry = document.createElement("input");
        carry.type = "hidden";
        carry.name = button.name;
        carry.value = button.value;
        form.appendChild(carry);
      }
      form.submit();
    };
    dialog.showModal();
    yes.focus();
  }, true);
})();
