"use strict";
// Telegram message text with its entities as DOM nodes (offsets are UTF-16, as JS strings are).

const ENTITY_TAGS = {
  bold: "strong", italic: "em", underline: "u", strikethrough: "s", code: "code",
  pre: "pre", spoiler: "span", blockquote: "blockquote", expandable_blockquote: "blockquote",
};

function renderText(text, entities) {
  const fragment = document.createDocumentFragment();
  if (!text) return fragment;
  const cuts = new Set([0, text.length]);
  for (const e of entities || []) { cuts.add(e.offset); cuts.add(e.offset + e.length); }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const [start, end] = [points[i], points[i + 1]];
    let node = document.createTextNode(text.slice(start, end));
    for (const e of entities || []) {
      if (e.offset > start || e.offset + e.length < end) continue;
      node = wrap(node, e, text.slice(e.offset, e.offset + e.length));
    }
    fragment.append(node);
  }
  return fragment;
}

function wrap(node, entity, whole) {
  let element;
  if (entity.type === "text_link" || entity.type === "url") {
    element = document.createElement("a");
    const href = entity.type === "url" ? whole : entity.url;
    if (/^(https?|tg):/i.test(href || "")) element.href = href;
    element.target = "_blank";
    element.rel = "noopener noreferrer";
  } else if (ENTITY_TAGS[entity.type]) {
    element = document.createElement(ENTITY_TAGS[entity.type]);
    if (entity.type === "spoiler") element.className = "spoiler";
  } else {
    return node;
  }
  element.append(node);
  return element;
}

window.renderText = renderText;
