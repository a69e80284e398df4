// A run of the saved file: POST /api/editor/runs, then each step's status from the run's Server-Sent Events.
import { useCallback, useMemo, useRef, useState } from 'react';
import { api } from './api.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function useRun(tell) {
  const [state, setState] = useState({ id: null, status: null, error: null, steps: {} });
  const source = useRef(null);
  const teller = useRef(tell);
  teller.current = tell;

  const close = () => { source.current?.close(); source.current = null; };

  const follow = useCallback((runId) => {
    close();
    const events = new EventSource(api.eventsUrl(runId));
    source.current = events;
    events.onmessage = (msg) => {
      let ev;
      try { ev = JSON.parse(msg.data); } catch { return; }
      if (ev.type === 'step') {
        setState((s) => ({ ...s, steps: { ...s.steps, [ev.step]: ev } }));
      } else if (ev.type === 'run') {
        setState((s) => ({ ...s, status: ev.status, error: ev.error || null }));
        if (FINAL.has(ev.status)) close();
      }
    };
    events.onerror = () => {
      if (source.current !== events) return;
      close();
      setState((s) => (FINAL.has(s.status) ? s : { ...s, error: 'lost the run\'s event stream' }));
    };
  }, []);

  const start = useCallback(async (path) => {
    try {
      const { run_id: runId } = await api.run(path);
      setState({ id: runId, status: 'queued', error: null, steps: {} });
      follow(runId);
    } catch (e) {
      teller.current(`Not started: ${e.message}`, 'error');
    }
  }, [follow]);

  const cancel = useCallback(async () => {
    if (!state.id) return;
    try { await api.cancel(state.id); } catch (e) { teller.current(`Not cancelled: ${e.message}`, 'error'); }
  }, [state.id]);

  const clear = useCallback(() => { close(); setState({ id: null, status: null, error: null, steps: {} }); }, []);

  return useMemo(() => ({ ...state, active: !!state.status && !FINAL.has(state.status), start, cancel, clear }),
    [state, start, cancel, clear]);
}
