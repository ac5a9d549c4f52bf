(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("certificates").textContent);
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  var count = document.getElementById("result-count");
  var LIMIT = 50;

  function norm(text) {
    return String(text).normalize("NFKC").replace(/\s+/g, "").toUpperCase();
  }

  function matches(query) {
    var q = norm(query);
    if (!q) { return []; }
    return data.filter(function (c) {
      return norm(c.number).indexOf(q) >= 0 || norm(c.organization).indexOf(q) >= 0 || norm(c.uscc).indexOf(q) >= 0;
    });
  }

  function line(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = text;
    return el;
  }

  function show(query) {
    var all = !norm(query);
    var found = all ? data : matches(query);
    list.textContent = "";
    if (all) {
      count.textContent = "本站收录证书 " + data.length + " 张" + (data.length > LIMIT ? "，以下为前 " + LIMIT + " 张，请输入查询条件" : "");
    } else {
      count.textContent = found.length ? "找到 " + found.length + " 张证书" + (found.length > LIMIT ? "，显示前 " + LIMIT + " 张" : "") : "没有找到相符的证书。请核对输入；仍找不到的，证书可能不是本机构颁发的。";
    }
    found.slice(0, LIMIT).forEach(function (c) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = c.page;
      link.appendChild(line("bdi", "", c.organization));
      item.appendChild(link);
      var meta = line("span", "meta", "");
      meta.appendChild(document.createTextNode("证书编号 " + c.number + " · "));
      meta.appendChild(line("span", "tag tag-" + ({"有效": "valid", "暂停": "suspended", "撤销": "withdrawn", "注销": "cancelled"}[c.status] || "expired"), c.status));
      meta.appendChild(document.createTextNode(" · 有效期至" + c.valid_until));
      item.appendChild(meta);
      list.appendChild(item);
    });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); show(input.value); });
  input.addEventListener("input", function () { show(input.value); });
  var start = new URLSearchParams(window.location.search).get("q") || "";
  input.value = start;
  show(start);
})();
