// The chat box's unsent text survives a reload, a closed tab and a server restart: it is kept in
// the browser's localStorage, one entry per thread (the page's path), and put back into an empty
// chat box when the page shows one again. Sending a message empties the box, and the entry with it.
// Loaded by Chainlit as its custom_js (bot/web/assets/config.toml); nothing leaves the browser.
(() => {
  const PREFIX = 'chat-draft:';
  const POLL_MS = 400; // the app empties the box itself on send: no event says so, so look
  const key = () => PREFIX + window.location.pathname;
  let box = null; // the chat box last seen (React may replace it)
  let last = '';

  function read() {
    try {
      return localStorage.getItem(key()) || '';
    } catch (e) {
      return ''; // storage disabled: nothing is kept
    }
  }

  function write(text) {
    try {
      if (text.trim()) localStorage.setItem(key(), text);
      else localStorage.removeItem(key());
    } catch (e) {
      // storage full or disabled: the box still works, the draft is just not kept
    }
  }

  function restore(el, text) {
    // React keeps its own copy of the value: set it the way typing does, then say so
    const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
    setter.call(el, text);
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function look() {
    const el = document.getElementById('chat-input');
    if (!el) return;
    if (el !== box) {
      box = el;
      const saved = read();
      if (saved && !el.value) restore(el, saved);
      last = el.value;
      return;
    }
    if (el.value !== last) {
      last = el.value;
      write(last);
    }
  }

  document.addEventListener('input', (e) => {
    if (e.target && e.target.id === 'chat-input' && e.target === box) {
      last = e.target.value;
      write(last);
    }
  });
  window.addEventListener('beforeunload', look);
  setInterval(look, POLL_MS);
})();
