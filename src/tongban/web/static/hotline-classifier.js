// 分类模型: the retraining takes a few seconds; the button says so while the request runs.
(function () {
  var form = document.getElementById("retrain-form");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    var button = document.getElementById("retrain");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = "正在训练，约需数秒……";
  });
})();
