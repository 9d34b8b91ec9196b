import { api, AuthNeeded } from "../sync.js";
import { metaGet } from "../db.js";
import { errorText, message } from "../catalogue.js";
import { h, clear } from "./common.js";

export async function renderLogin(main, ctx) {
  clear(main);
  document.title = "Đăng nhập – e-ISO Xã";
  const last = ctx.user || (await metaGet("user"));
  const error = h("p", { class: "notice error", id: "login-error", role: "alert", hidden: true });
  const username = h("input", {
    id: "username", name: "username", autocomplete: "username", autocapitalize: "none", spellcheck: "false",
    required: true, value: last ? last.username : "",
  });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn primary wide" }, "Đăng nhập");
  const form = h("form", { class: "card form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "username", text: "Tên đăng nhập" }), username),
    h("div", { class: "field" }, h("label", { for: "password", text: "Mật khẩu" }), password),
    error, submit);
  const offline = !navigator.onLine;
  // Node.append writes a null as the text "null" (the stray "nullnull" of the login screen): drop them.
  main.append(...[
    h("h1", { text: "Đăng nhập" }),
    h("p", { class: "lead", text: "Phiếu kiểm tra ISO 9001:2015 điện tử cho cán bộ xã. Đăng nhập một lần khi có mạng, sau đó dùng được cả khi không có mạng." }),
    offline ? h("p", { class: "notice warn", role: "status", text: "Máy đang không có mạng. Cần có mạng để đăng nhập." }) : null,
    ctx.user ? h("p", { class: "notice", text: "Các thay đổi chưa gửi của bạn vẫn nằm trên máy và sẽ được gửi sau khi đăng nhập." }) : null,
    form].filter(Boolean));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      error.textContent = message("login_missing");
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = "Đang đăng nhập…";
    try {
      const res = await api("POST", "/api/session", { username: username.value.trim(), password: password.value }, {}, { now: true });
      // Another user's unsent edits stay in that user's own database on this phone.
      await ctx.login(res.user);
      ctx.hideAuthBanner();
      ctx.go("#/");
    } catch (err) {
      error.textContent = err instanceof AuthNeeded || err.status === 401
        ? errorText("bad_credentials")
        : err.message;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = "Đăng nhập";
      password.focus();
    }
  });
  (last ? password : username).focus();
}
