import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Markdown } from '@/components/markdown';

// The interview room, shown in Chainlit's element side panel (bot/web/room.py sends it): the
// question, its clock, the actions and, for coding, a code editor. Colours are the theme's CSS
// variables, so the room follows the dark and light themes. Chainlit compiles this file in the
// browser; nothing here is fetched from the network.

const INDENT = props.indent; // bot.interview.editor.INDENT, sent by bot/web/room.py
const DRAFT_PREFIX = 'interview-room:';
const mono = 'var(--font-mono, ui-monospace), ui-monospace, Menlo, Consolas, monospace';
const colour = (name, alpha) => (alpha ? `hsl(var(--${name}) / ${alpha})` : `hsl(var(--${name}))`);
const LINE = 20; // editor line height in px; the gutter's numbers line up with it
const AUTOSAVE_MS = 1500; // the server keeps the editor's code this long after typing stops
const BELOW = 40; // px under the room: the panel's bottom padding and margin
const MIN_HEIGHT = 360; // px: below this the panel scrolls and the clock and actions stick

// --- the unsent editor text survives a re-render, a reload and a reconnect -----------------------

function loadDraft(props) {
  try {
    const saved = JSON.parse(localStorage.getItem(DRAFT_PREFIX + props.session) || 'null');
    if (saved && saved.question === props.question && saved.base === props.code) return saved.text;
  } catch (e) {
    // storage disabled or a stale entry: start from what the server sent
  }
  return props.code;
}

function saveDraft(props, text) {
  try {
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key && key.startsWith(DRAFT_PREFIX) && key !== DRAFT_PREFIX + props.session) {
        localStorage.removeItem(key); // one draft is kept: the session's current question
      }
    }
    const entry = { question: props.question, base: props.code, text };
    localStorage.setItem(DRAFT_PREFIX + props.session, JSON.stringify(entry));
  } catch (e) {
    // without storage the draft lives as long as the panel
  }
}

// --- editing: Tab indents, Shift-Tab dedents, Enter keeps the indentation --------------------

function lineStart(text, at) {
  return text.lastIndexOf('\n', at - 1) + 1;
}

function lineEnd(text, at) {
  const end = text.indexOf('\n', at);
  return end === -1 ? text.length : end;
}

function indentLines(text, start, end) {
  const from = lineStart(text, start);
  if (start === end || text.slice(start, end).indexOf('\n') === -1) {
    const column = start - from;
    const pad = ' '.repeat(INDENT.length - (column % INDENT.length));
    return { from: start, to: end, insert: pad, select: [start + pad.length, start + pad.length] };
  }
  const to = lineEnd(text, end > start && text[end - 1] === '\n' ? end - 1 : end);
  const lines = text.slice(from, to).split('\n');
  const insert = lines.map((l) => (l.trim() ? INDENT + l : l)).join('\n');
  return { from, to, insert, select: [from, from + insert.length] };
}

function dedentLines(text, start, end) {
  const from = lineStart(text, start);
  const to = lineEnd(text, end > start && text[end - 1] === '\n' ? end - 1 : end);
  const lines = text.slice(from, to).split('\n');
  let firstCut = 0;
  const out = lines.map((l, i) => {
    const cut = l.startsWith('\t') ? 1 : l.length - l.replace(/^ {1,4}/, '').length;
    if (i === 0) firstCut = cut;
    return l.slice(cut);
  });
  const insert = out.join('\n');
  if (start === end) {
    const at = Math.max(from, start - firstCut);
    return { from, to, insert, select: [at, at] };
  }
  return { from, to, insert, select: [from, from + insert.length] };
}

function newline(text, start, end) {
  const from = lineStart(text, start);
  const before = text.slice(from, start);
  let pad = before.match(/^[ \t]*/)[0];
  if (/:\s*(#.*)?$/.test(before)) pad += INDENT;
  const insert = '\n' + pad;
  return { from: start, to: end, insert, select: [start + insert.length, start + insert.length] };
}

function backspace(text, start, end) {
  const before = text.slice(lineStart(text, start), start);
  if (start !== end || !before || before.trim()) return null; // an ordinary backspace
  const cut = ((before.length - 1) % INDENT.length) + 1;
  return { from: start - cut, to: start, insert: '', select: [start - cut, start - cut] };
}

// Apply an edit as typing would, so the browser's undo (Ctrl-Z) still works.
function apply(area, edit) {
  area.focus();
  area.setSelectionRange(edit.from, edit.to);
  const typed = edit.insert
    ? document.execCommand('insertText', false, edit.insert)
    : document.execCommand('delete', false);
  if (!typed) area.setRangeText(edit.insert, edit.from, edit.to, 'end');
  area.setSelectionRange(edit.select[0], edit.select[1]);
  return area.value;
}

function CodeEditor({ value, onChange, readOnly }) {
  const area = useRef(null);
  const gutter = useRef(null);
  const escaped = useRef(false); // Esc, then Tab: leave the editor with the keyboard
  const lines = value.split('\n').length;

  useEffect(() => {
    const el = area.current;
    if (el && !readOnly && document.activeElement !== el) {
      el.setSelectionRange(value.length, value.length); // the cursor after the signature
    }
  }, []);

  const onKeyDown = (e) => {
    const el = e.currentTarget;
    const { selectionStart: start, selectionEnd: end, value: text } = el;
    let edit = null;
    if (e.key === 'Escape') {
      escaped.current = true;
      return;
    }
    if (e.key === 'Tab' && !escaped.current && !e.ctrlKey && !e.altKey && !e.metaKey) {
      edit = e.shiftKey ? dedentLines(text, start, end) : indentLines(text, start, end);
    } else if (e.key === 'Enter' && !e.nativeEvent.isComposing) {
      e.stopPropagation(); // Enter never sends: it is a new line
      edit = newline(text, start, end);
    } else if (e.key === 'Backspace' && !e.ctrlKey && !e.altKey && !e.metaKey) {
      edit = backspace(text, start, end);
    }
    escaped.current = false;
    if (edit) {
      e.preventDefault();
      onChange(apply(el, edit));
    }
  };

  const box = {
    display: 'flex',
    flex: '1 1 0',
    minHeight: 6 * LINE,
    border: `1px solid ${colour('border')}`,
    borderRadius: 6,
    background: colour('background'),
    overflow: 'hidden',
    fontFamily: mono,
    fontSize: 13,
    lineHeight: `${LINE}px`
  };
  return (
    <div style={box} data-testid="code-editor">
      <div
        ref={gutter}
        aria-hidden="true"
        data-testid="code-gutter"
        style={{
          padding: '8px 8px 8px 10px',
          minWidth: '3.2em',
          textAlign: 'right',
          color: colour('muted-foreground'),
          background: colour('muted', 0.45),
          borderRight: `1px solid ${colour('border')}`,
          overflow: 'hidden',
          userSelect: 'none',
          whiteSpace: 'pre'
        }}
      >
        {Array.from({ length: lines }, (_, i) => i + 1).join('\n')}
      </div>
      <textarea
        ref={area}
        aria-label="Code editor"
        value={value}
        readOnly={readOnly}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        autoCorrect="off"
        wrap="off"
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
        style={{
          flex: 1,
          resize: 'none',
          border: 'none',
          outline: 'none',
          padding: 8,
          margin: 0,
          tabSize: INDENT.length,
          whiteSpace: 'pre',
          overflow: 'auto',
          background: 'transparent',
          color: colour('foreground'),
          font: 'inherit',
          lineHeight: 'inherit'
        }}
      />
    </div>
  );
}

// --- the clock: a countdown in a mock round, time on the question otherwise ------------------

function clockText(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(s / 60)).padStart(2, '0');
  return `${mm}:${String(s % 60).padStart(2, '0')}`;
}

function Clock({ deadline, startedAt, warnSeconds }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  let digits = clockText((now - new Date(startedAt).getTime()) / 1000);
  let words = ' on this question';
  let tone = colour('muted-foreground');
  if (deadline) {
    const left = Math.max(0, (new Date(deadline).getTime() - now) / 1000);
    [digits, words] = left < 1 ? ['', "time's up"] : [clockText(left), ' left'];
    tone = left < 1 ? '#dc2626' : left <= warnSeconds ? '#d97706' : colour('foreground');
  }
  return (
    <span data-testid="room-timer" role="timer" style={{ color: tone, whiteSpace: 'nowrap' }}>
      <span style={{ fontFamily: mono, fontSize: 16, fontWeight: 600 }}>{digits}</span>
      <span style={{ fontSize: 13 }}>{words}</span>
    </span>
  );
}

// --- after an action, the chat shows what it answered --------------------------------------

const chatSteps = () => document.querySelectorAll('[data-step-type]');

// The chat scrolls by itself only after a message typed in it: bring the first reply to an
// action taken here into view, as Chainlit does for a typed message. The reply comes over the
// socket and may land after the action's own answer, so look again for a few seconds.
function revealReplies(before, tries = 50) {
  const steps = chatSteps();
  if (steps.length > before) {
    steps[before].scrollIntoView({ block: 'start', behavior: 'smooth' });
  } else if (tries > 0) {
    setTimeout(() => revealReplies(before, tries - 1), 100);
  }
}

// --- the room ----------------------------------------------------------------------------

// The room fills the panel down to the window's bottom edge, so the editor scrolls inside itself
// and the actions stay at the bottom; on a short window the panel scrolls instead.
// The clock and action bars are opaque in the colour of what holds the room: the side panel's
// card, or the sheet that narrow windows get instead.
function useFit(ref) {
  const [fit, setFit] = useState({ height: null, surface: 'card' });
  useLayoutEffect(() => {
    const measure = () => {
      if (!ref.current) return;
      const top = ref.current.getBoundingClientRect().top;
      setFit({
        height: Math.max(MIN_HEIGHT, Math.floor(window.innerHeight - top - BELOW)),
        surface: ref.current.closest('[role="dialog"]') ? 'background' : 'card'
      });
    };
    measure();
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);
  return fit;
}

export default function Interview() {
  const [code, setCode] = useState(() => (props.coding ? loadDraft(props) : ''));
  const [busy, setBusy] = useState(null);
  const answering = props.phase === 'answering';
  const saving = useRef(null);
  const root = useRef(null);
  const fit = useFit(root);

  // The server keeps the code too (bot.web.room.SAVE_CODE), so a time-out or a restart has it.
  const autosave = (text) => {
    clearTimeout(saving.current);
    saving.current = setTimeout(() => {
      const payload = { code: text, question: props.question };
      callAction({ name: props.saveAction, payload }).catch(() => {});
    }, AUTOSAVE_MS);
  };
  useEffect(() => () => clearTimeout(saving.current), []);

  const edit = (text) => {
    setCode(text);
    saveDraft(props, text);
    autosave(text);
  };

  const act = async (action) => {
    if (busy) return;
    setBusy(action.name);
    const sends = props.coding && answering && action.sendsCode;
    if (sends) clearTimeout(saving.current); // this click carries the code itself
    const payload = sends ? { code, question: props.question } : {};
    const before = chatSteps().length;
    try {
      await callAction({ name: action.name, payload });
    } finally {
      setBusy(null);
      revealReplies(before);
    }
  };

  const bar = {
    position: 'sticky',
    background: colour(fit.surface),
    zIndex: 1,
    flexShrink: 0,
    display: 'flex',
    alignItems: 'center',
    gap: 8
  };
  return (
    <div
      ref={root}
      data-testid="interview-room"
      style={{ display: 'flex', flexDirection: 'column', gap: 10, height: fit.height || 'auto' }}
    >
      <div style={{ ...bar, top: 0, justifyContent: 'space-between', paddingBottom: 4 }}>
        <span style={{ fontSize: 13, color: colour('muted-foreground') }}>{props.label}</span>
        <Clock
          deadline={props.deadline}
          startedAt={props.startedAt}
          warnSeconds={props.warnSeconds}
        />
      </div>
      <div style={{ flexShrink: 0 }}>
        <div data-testid="room-title" style={{ fontSize: 17, fontWeight: 600 }}>
          {props.title}
        </div>
        <div style={{ fontSize: 12, color: colour('muted-foreground') }}>{props.meta}</div>
      </div>
      {props.followUp ? (
        <div
          data-testid="room-follow-up"
          style={{
            flexShrink: 0,
            border: `1px solid ${colour('primary', 0.6)}`,
            borderRadius: 6,
            padding: '8px 10px',
            background: colour('primary', 0.08)
          }}
        >
          <Markdown>{props.followUp}</Markdown>
          <div style={{ fontSize: 12, color: colour('muted-foreground'), marginTop: 4 }}>
            Answer in the chat; Submit moves on.
          </div>
        </div>
      ) : null}
      <div
        data-testid="room-question"
        style={{
          overflowY: 'auto',
          flex: props.coding ? '0 1 auto' : '1 1 auto',
          maxHeight: props.coding ? '34vh' : undefined,
          minHeight: 60,
          fontSize: 14,
          paddingRight: 4
        }}
      >
        <Markdown>{props.prompt}</Markdown>
        {props.examples && props.examples.length ? (
          <div style={{ marginTop: 8 }}>
            <div style={{ fontWeight: 600, fontSize: 13 }}>Examples</div>
            {props.examples.map((ex, i) => (
              <div key={i} style={{ fontFamily: mono, fontSize: 12, whiteSpace: 'pre-wrap' }}>
                {ex}
              </div>
            ))}
          </div>
        ) : null}
      </div>
      {props.coding ? <CodeEditor value={code} onChange={edit} readOnly={!answering} /> : null}
      <div
        data-testid="room-actions"
        style={{ ...bar, bottom: 0, flexWrap: 'wrap', paddingTop: 6 }}
      >
        {props.actions.map((a) => (
          <Button
            key={a.name}
            size="sm"
            variant={a.primary ? 'default' : 'outline'}
            disabled={busy !== null}
            onClick={() => act(a)}
          >
            {busy === a.name ? `${a.label}…` : a.label}
          </Button>
        ))}
      </div>
    </div>
  );
}
