"use strict";
// Inline mode: typing "@bot query" lists the bot's results above the composer; choosing one
// (click, or arrows and Enter) posts it in the chat, sent by the user via the bot.

const inline = { shown: null, selected: -1, timer: 0, asked: "" };

function inlineQuery(query) {
  clearTimeout(inline.timer);
  inline.timer = setTimeout(() => askInline(query).catch(toast), 250);
}

async function askInline(query) {
  inline.asked = query;
  const answer = await post("/api/inline", { chat: ui.chat.id, user: currentSpeaker(), query });
  if (inline.asked !== query) return;  // the user typed on meanwhile
  inline.shown = answer;
  inline.selected = -1;
  const list = $("inline-results");
  const items = answer.results.map((result, i) => {
    const item = document.createElement("li");
    item.role = "option";
    item.id = `inline-${i}`;
    item.className = "inline-result";
    if (result.thumb) {
      const image = document.createElement("img");
      image.src = result.thumb;
      image.alt = "";
      item.append(image);
    }
    const words = document.createElement("span");
    const title = document.createElement("strong");
    title.textContent = result.title || result.text || result.id;
    words.append(title);
    if (result.description) words.append(document.createElement("br"), result.description);
    item.append(words);
    item.addEventListener("mousedown", (event) => { event.preventDefault(); chooseInline(result); });
    return item;
  });
  if (answer.button) {
    const item = document.createElement("li");
    item.role = "option";
    item.id = `inline-${items.length}`;
    item.className = "inline-button";
    item.textContent = answer.button.text;
    item.addEventListener("mousedown", (event) => { event.preventDefault(); startFromInline(answer.button); });
    items.push(item);
  }
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
}

function hideInline() {
  clearTimeout(inline.timer);
  inline.asked = "";
  inline.shown = null;
  $("inline-results").hidden = true;
}

async function chooseInline(result) {
  const chosen = { chat: ui.chat.id, user: currentSpeaker(), query_id: inline.shown.query_id, result_id: result.id };
  hideInline();
  $("composer-text").value = "";
  await post("/api/inline/choose", chosen).catch(toast);
}

function startFromInline(button) {
  hideInline();
  $("composer-text").value = "";
  startWith(button.start_parameter);
}

// Arrow keys and Enter while results show; true when the key was the list's.
function inlineKey(event) {
  const items = [...$("inline-results").children];
  if ($("inline-results").hidden || !items.length) return false;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    inline.selected = (inline.selected + (event.key === "ArrowDown" ? 1 : -1) + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === inline.selected)));
    $("composer-text").setAttribute("aria-activedescendant", items[inline.selected].id);
  } else if (event.key === "Enter" && inline.selected >= 0) {
    const results = inline.shown.results;
    if (inline.selected < results.length) chooseInline(results[inline.selected]);
    else startFromInline(inline.shown.button);
  } else if (event.key === "Escape") {
    hideInline();
  } else {
    return false;
  }
  event.preventDefault();
  return true;
}
