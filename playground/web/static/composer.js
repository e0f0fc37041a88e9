"use strict";
// The composer: text, the command menu, replies, attachments (picker and drag-and-drop), the
// language switch; inline mode's results are inline.js's.

const text = $("composer-text");

function setReply(m) {
  ui.reply = m;
  $("reply-bar").hidden = !m;
  if (m) {
    $("reply-who").textContent = m.from.name;
    $("reply-snippet").textContent = (m.text || m.caption || (m.photo ? "Photo" : "File")).slice(0, 80);
    text.focus();
  }
}

function setFiles(files) {
  ui.files = [...files];
  $("attach-bar").hidden = ui.files.length === 0;
  $("attach-list").textContent = ui.files.map((f) => f.name).join(", ");
  $("file-input").value = "";
  if (ui.files.length) text.focus();
}

async function send(event) {
  event.preventDefault();
  if (!text.value.trim() && !ui.files.length) return;
  const form = new FormData();
  form.append("chat", ui.chat.id);
  form.append("user", currentSpeaker());
  form.append("text", text.value);
  if (ui.reply) form.append("reply_to", ui.reply.id);
  if ($("as-file").checked) form.append("as_file", "1");
  for (const file of ui.files) form.append("file", file, file.name);
  try {
    await api("/api/send", { method: "POST", body: form });
    text.value = "";
    setFiles([]);
    setReply(null);
    hideSuggestions();
    fitText();
  } catch (error) {
    toast(error);
  }
}

function fitText() {
  text.style.height = "auto";
  text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
}

// --- the command menu -----------------------------------------------------------------------

function showSuggestions(filter) {
  const list = $("suggestions");
  const shown = ui.menu.filter((c) => `/${c.command}`.startsWith(filter));
  list.replaceChildren(...shown.map((c, i) => {
    const item = document.createElement("li");
    item.role = "option";
    item.id = `suggestion-${i}`;
    item.dataset.command = c.command;
    const name = document.createElement("strong");
    name.textContent = `/${c.command}`;
    item.append(name, document.createTextNode(` ${c.description}`));
    item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(c.command); });
    return item;
  }));
  list.hidden = shown.length === 0;
  ui.suggestion = -1;
  $("menu-button").setAttribute("aria-expanded", String(!list.hidden));
}

function hideSuggestions() {
  $("suggestions").hidden = true;
  $("menu-button").setAttribute("aria-expanded", "false");
}

function pick(command) {
  text.value = `/${command} `;
  hideSuggestions();
  text.focus();
}

function moveSuggestion(step) {
  const items = [...$("suggestions").children];
  if (!items.length) return;
  ui.suggestion = (ui.suggestion + step + items.length) % items.length;
  items.forEach((item, i) => item.setAttribute("aria-selected", String(i === ui.suggestion)));
  text.setAttribute("aria-activedescendant", items[ui.suggestion].id);
  items[ui.suggestion].scrollIntoView({ block: "nearest" });
}

function onInput() {
  fitText();
  const value = text.value;
  if (/^\/\S*$/.test(value)) showSuggestions(value);
  else hideSuggestions();
  const mention = `@${ui.setup.bot.username}`;
  if (!ui.files.length && (value === mention || value.startsWith(`${mention} `))) inlineQuery(value.slice(mention.length + 1));
  else hideInline();
}

function onKey(event) {
  if (inlineKey(event)) return;
  const open = !$("suggestions").hidden;
  if (open && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
    event.preventDefault();
    moveSuggestion(event.key === "ArrowDown" ? 1 : -1);
  } else if (open && (event.key === "Tab" || (event.key === "Enter" && ui.suggestion >= 0))) {
    event.preventDefault();
    const items = $("suggestions").children;
    pick(items[Math.max(ui.suggestion, 0)].dataset.command);
  } else if (event.key === "Escape") {
    hideSuggestions();
    setReply(null);
  } else if (event.key === "Enter" && !event.shiftKey) {
    send(event);
  }
}

// --- drag and drop --------------------------------------------------------------------------

function dropping(show) {
  $("drop-hint").hidden = !show;
}

function setUpDrops() {
  const chat = $("chat");
  chat.addEventListener("dragover", (event) => { event.preventDefault(); dropping(true); });
  chat.addEventListener("dragleave", (event) => { if (event.target === chat) dropping(false); });
  chat.addEventListener("drop", (event) => {
    event.preventDefault();
    dropping(false);
    if (event.dataTransfer.files.length) setFiles(event.dataTransfer.files);
  });
}

async function setLanguage(code) {
  ui.setup = await post("/api/language", { language: code });
  await openChat(ui.chat.id);
}

async function start() {
  ui.setup = await api("/api/setup");
  const language = $("language");
  const names = { en: "English", es: "Español", ru: "Русский", zh: "中文" };
  language.replaceChildren(...ui.setup.languages.map((code) => new Option(names[code] || code, code)));
  language.value = ui.setup.language;
  language.addEventListener("change", () => setLanguage(language.value).catch(toast));
  $("speaker").addEventListener("change", () => { ui.speaker[ui.chat.id] = currentSpeaker(); });
  $("composer").addEventListener("submit", send);
  text.addEventListener("input", onInput);
  text.addEventListener("keydown", onKey);
  text.addEventListener("blur", () => { hideSuggestions(); hideInline(); });
  $("menu-button").addEventListener("click", () => {
    if ($("suggestions").hidden) { text.focus(); showSuggestions("/"); moveSuggestion(1); } else hideSuggestions();
  });
  $("file-input").addEventListener("change", (event) => setFiles(event.target.files));
  $("attach-cancel").addEventListener("click", () => setFiles([]));
  $("reply-cancel").addEventListener("click", () => setReply(null));
  setUpDrops();
  await openChat(ui.setup.chats[0].id);
  listen();
  text.focus();
}

start().catch(toast);
