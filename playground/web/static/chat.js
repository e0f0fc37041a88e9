"use strict";
// The web chat: chats, the event stream, the composer, buttons, replies and files.

const $ = (id) => document.getElementById(id);
const ui = {
  setup: null, chat: null, speaker: {}, reply: null, files: [], menu: [], unread: {},
  panes: {}, suggestion: -1,
};
const ACTIONS = { typing: "typing…", upload_photo: "sending a photo…", upload_document: "sending a file…" };

async function api(path, options = {}) {
  const response = await fetch(path, options);
  if (!response.ok) throw new Error(await response.text());
  return response.json();
}

function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// --- chats ----------------------------------------------------------------------------------

function drawChats() {
  const list = $("chat-list");
  list.replaceChildren();
  for (const chat of ui.setup.chats) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "chat-item";
    button.dataset.chat = chat.id;
    button.setAttribute("aria-current", String(ui.chat && ui.chat.id === chat.id));
    const avatar = document.createElement("span");
    avatar.className = "avatar";
    avatar.textContent = chat.type === "private" ? "I" : "G";
    avatar.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.textContent = chat.title;
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = ui.unread[chat.id] || "";
    badge.hidden = !ui.unread[chat.id];
    button.append(avatar, name, badge);
    button.addEventListener("click", () => openChat(chat.id));
    item.append(button);
    list.append(item);
  }
}

function pane(chatId) {
  if (!ui.panes[chatId]) {
    const element = document.createElement("div");
    element.className = "pane";
    element.dataset.chat = chatId;
    ui.panes[chatId] = element;
    $("messages").append(element);
  }
  return ui.panes[chatId];
}

async function openChat(chatId) {
  ui.chat = ui.setup.chats.find((c) => c.id === Number(chatId));
  ui.unread[ui.chat.id] = 0;
  for (const [id, element] of Object.entries(ui.panes)) element.hidden = Number(id) !== ui.chat.id;
  pane(ui.chat.id).hidden = false;
  $("chat-title").textContent = ui.chat.title;
  const group = ui.chat.type !== "private";
  $("speaker-field").hidden = !group;
  const speaker = $("speaker");
  speaker.replaceChildren(...ui.chat.members.map((m) => new Option(m.name, m.id)));
  speaker.value = ui.speaker[ui.chat.id] || ui.chat.members[0].id;
  $("chat-status").textContent = group ? ui.chat.members.map((m) => m.name).join(", ") + " and Iris" : "bot";
  setReply(null);
  drawChats();
  scrollDown();
  ui.menu = await api(`/api/menu?chat=${ui.chat.id}`);
  document.body.dataset.menuLanguage = ui.setup.language;
}

function currentSpeaker() {
  return Number($("speaker").value || ui.chat.members[0].id);
}

// --- messages -------------------------------------------------------------------------------

function time(date) {
  return new Date(date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function drawMessage(m) {
  const holder = pane(m.chat);
  const existing = holder.querySelector(`[data-id="${m.id}"]`);
  const bubble = document.createElement("article");
  bubble.className = `message ${m.from.bot ? "bot" : "user"}${m.album ? " album" : ""}`;
  bubble.dataset.id = m.id;
  bubble.tabIndex = 0;
  bubble.setAttribute("aria-label", `${m.from.name} at ${time(m.date)}`);
  if (ui.setup.chats.find((c) => c.id === m.chat).type !== "private") {
    const who = document.createElement("div");
    who.className = "sender";
    who.textContent = m.from.name;
    bubble.append(who);
  }
  if (m.reply_to) {
    const quote = document.createElement("a");
    quote.className = "quote";
    quote.href = `#m-${m.chat}-${m.reply_to.id}`;
    const who = document.createElement("strong");
    who.textContent = m.reply_to.from;
    quote.append(who, document.createTextNode(m.reply_to.snippet));
    bubble.append(quote);
  }
  if (m.photo) {
    const link = document.createElement("a");
    link.href = m.photo.url;
    link.target = "_blank";
    const image = document.createElement("img");
    image.src = m.photo.url;
    image.width = m.photo.width;
    image.height = m.photo.height;
    image.alt = m.caption ? `Photo: ${m.caption}` : "Photo";
    image.className = "photo";
    image.addEventListener("load", scrollDownIfNear);
    link.append(image);
    bubble.append(link);
  }
  if (m.document) {
    const link = document.createElement("a");
    link.className = "document";
    link.href = m.document.url;
    link.download = m.document.name || "file";
    link.textContent = `📄 ${m.document.name || "file"} · ${Math.ceil(m.document.size / 1024)} KB`;
    bubble.append(link);
  }
  const body = m.text ?? m.caption;
  if (body) {
    const text = document.createElement("div");
    text.className = "text";
    text.append(renderText(body, m.entities));
    bubble.append(text);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  if (m.via_bot) {
    const via = document.createElement("span");
    via.textContent = `via @${ui.setup.bot.username}`;
    meta.append(via);
  }
  const reply = document.createElement("button");
  reply.type = "button";
  reply.className = "reply";
  reply.textContent = "Reply";
  reply.addEventListener("click", () => setReply(m));
  const stamp = document.createElement("time");
  stamp.textContent = (m.edited ? "edited " : "") + time(m.date);
  meta.append(reply, stamp);
  bubble.append(meta);
  if (m.buttons.length) bubble.append(keyboard(m));
  bubble.addEventListener("keydown", (event) => {
    if (event.key === "r" && event.target === bubble) { event.preventDefault(); setReply(m); }
  });
  const row = document.createElement("div");
  row.className = `row-of ${m.from.bot ? "bot" : "user"}`;
  row.id = `m-${m.chat}-${m.id}`;
  row.dataset.id = m.id;
  row.append(bubble);
  if (existing) {
    existing.closest(".row-of").replaceWith(row);
    return;
  }
  const near = isNearBottom();
  const later = [...holder.children].find((r) => Number(r.dataset.id) > m.id);
  holder.insertBefore(row, later || null);
  if (!ui.chat || ui.chat.id !== m.chat) {
    ui.unread[m.chat] = (ui.unread[m.chat] || 0) + 1;
    drawChats();
  } else if (near || !m.from.bot) {
    scrollDown();
  }
}

function keyboard(m) {
  const grid = document.createElement("div");
  grid.className = "keyboard";
  for (const row of m.buttons) {
    const line = document.createElement("div");
    for (const b of row) {
      const start = startParameter(b.url);
      const button = document.createElement(b.url && start === null ? "a" : "button");
      button.className = "key";
      button.textContent = b.text;
      if (start !== null) {
        button.type = "button";
        button.addEventListener("click", () => startWith(start));
      } else if (b.url) {
        button.href = b.url;
        button.target = "_blank";
        button.rel = "noopener noreferrer";
      } else {
        button.type = "button";
        button.addEventListener("click", () => press(m, b.data));
      }
      line.append(button);
    }
    grid.append(line);
  }
  return grid;
}

// A t.me link to the bot itself opens the private chat with /start <parameter>, as in Telegram.
function startParameter(url) {
  const match = /^https:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)$/.exec(url || "");
  return match && match[1] === ui.setup.bot.username ? match[2] : null;
}

async function startWith(parameter) {
  const private_ = ui.setup.chats.find((c) => c.type === "private");
  await openChat(private_.id);
  const form = new FormData();
  form.append("chat", private_.id);
  form.append("user", private_.members[0].id);
  form.append("text", `/start ${parameter}`);
  await api("/api/send", { method: "POST", body: form }).catch(toast);
}

async function press(m, data) {
  await post("/api/press", { chat: m.chat, user: currentSpeaker(), message: m.id, data }).catch(toast);
}

function removeMessage(chat, id) {
  const row = pane(chat).querySelector(`.row-of[data-id="${id}"]`);
  if (row) row.remove();
}

function isNearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 120;
}

function scrollDown() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

function scrollDownIfNear() {
  if (isNearBottom()) scrollDown();
}

let toastTimer = 0;
function toast(what) {
  const element = $("toast");
  element.textContent = what instanceof Error ? what.message : String(what);
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { element.hidden = true; }, 4000);
}

let actionTimer = 0;
function showAction(chat, action) {
  if (!ui.chat || ui.chat.id !== chat) return;
  const status = $("chat-status");
  status.textContent = `Iris is ${ACTIONS[action] || "busy…"}`;
  clearTimeout(actionTimer);
  actionTimer = setTimeout(() => openChatStatus(), 5000);
}

function openChatStatus() {
  const group = ui.chat.type !== "private";
  $("chat-status").textContent = group ? ui.chat.members.map((m) => m.name).join(", ") + " and Iris" : "bot";
}

function listen() {
  const events = new EventSource("/api/events");
  // Every (re)connection starts with every message that exists: rows it leaves out are gone.
  events.onopen = () => {
    for (const row of document.querySelectorAll(".row-of")) row.dataset.stale = "1";
  };
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "message") drawMessage(event.message);
    else if (event.type === "delete") removeMessage(event.chat, event.id);
    else if (event.type === "answer") toast(event.text);
    else if (event.type === "action") showAction(event.chat, event.action);
    else if (event.type === "ready") {
      for (const row of document.querySelectorAll(".row-of[data-stale]")) row.remove();
      document.body.dataset.ready = "1";
    }
  };
}

