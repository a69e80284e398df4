// Live validation by the server: an edit is sent at once when no check is under way, else 150 ms after the
// last edit (typing makes one request, not one per key). Late answers to older edits are dropped. The time
// from an edit to its problems on screen is kept in window.__emberflowEditor.validationMs (the tests report it).
import { useEffect, useRef, useState } from 'react';
import { api } from './api.js';

const DEBOUNCE_MS = 150;

function record(ms, roundTrip) {
  const probe = (window.__emberflowEditor ||= { validationMs: [], roundTripMs: [] });
  probe.validationMs.push(ms);
  probe.roundTripMs.push(roundTrip);
}

export function useValidation(workflow, signature, baseText) {
  const [result, setResult] = useState({ state: 'idle', problems: [], warnings: [], columns: {}, text: '', error: null, lastMs: null });
  const live = useRef({ seq: 0, applied: 0, inFlight: false, timer: null, lastSent: 0, editAt: 0 });
  const latest = useRef({ workflow, baseText });
  latest.current = { workflow, baseText };

  useEffect(() => {
    if (!workflow) return undefined;
    const l = live.current;
    l.editAt = performance.now();
    const send = async () => {
      l.timer = null;
      const seq = ++l.seq;
      const editAt = l.editAt;
      const sentAt = performance.now();
      l.inFlight = true;
      l.lastSent = sentAt;
      setResult((r) => ({ ...r, state: 'pending' }));
      try {
        const answer = await api.validate(latest.current.workflow, latest.current.baseText);
        if (seq < l.seq && l.timer) return;
        if (seq < l.applied) return;
        l.applied = seq;
        const now = performance.now();
        setResult({ state: answer.ok ? 'ok' : 'problems', problems: answer.problems || [], columns: answer.columns || {},
          warnings: answer.warnings || [],
          text: answer.text || '', error: null, lastMs: now - editAt });
        requestAnimationFrame(() => record(performance.now() - editAt, now - sentAt));
      } catch (e) {
        setResult((r) => ({ ...r, state: 'error', error: `validation failed: ${e.message}` }));
      } finally {
        if (seq === l.seq) l.inFlight = false;
      }
    };
    if (l.timer) clearTimeout(l.timer);
    const idle = !l.inFlight && performance.now() - l.lastSent > DEBOUNCE_MS;
    if (idle) send(); else l.timer = setTimeout(send, DEBOUNCE_MS);
    return undefined;
  }, [signature]);

  useEffect(() => () => clearTimeout(live.current.timer), []);
  return result;
}
