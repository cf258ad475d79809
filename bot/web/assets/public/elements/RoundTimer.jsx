import { useEffect, useState } from 'react';

// A round's countdown, drawn in the browser from the deadline the server sends. The server keeps
// its own clock: it warns near the end and submits the answer at time-out, whatever this shows.
export default function RoundTimer() {
  const deadline = new Date(props.deadline).getTime();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  const left = Math.max(0, Math.round((deadline - now) / 1000));
  const mm = String(Math.floor(left / 60)).padStart(2, '0');
  const ss = String(left % 60).padStart(2, '0');
  const warn = left <= props.warnSeconds;
  const colour = left === 0 ? 'text-red-600' : warn ? 'text-amber-600' : 'text-foreground';
  return (
    <div className={`font-mono text-lg ${colour}`} data-testid="round-timer">
      {props.round}: {left === 0 ? "time's up" : `${mm}:${ss} left`}
    </div>
  );
}
