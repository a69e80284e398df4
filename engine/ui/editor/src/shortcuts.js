// Keyboard shortcuts: Ctrl+S saves anywhere; the others act on the canvas, not while typing in a field
// (there Ctrl+Z undoes the typing, as the browser does). C, a single letter, acts only while the focus is on the
// canvas (a step, a connection) or on nothing, so that it never takes a key meant for another control.
import { useEffect, useRef } from 'react';

function isTyping(target) {
  const tag = target?.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target?.isContentEditable;
}

function onCanvas(target) {
  return !target || target === document.body || Boolean(target.closest?.('.canvas'));
}

function actionOf(e) {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && key === 's') return 'save';
  if (isTyping(e.target)) return null;
  if (mod && key === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (mod && key === 'y') return 'redo';
  if (mod && key === 'c') return 'copy';
  if (mod && key === 'v') return 'paste';
  if (mod && key === 'a') return 'selectAll';
  if (key === 'escape') return 'selectNone';
  if (!mod && !e.altKey && key === 'c' && onCanvas(e.target)) return 'connect';
  if (!mod && (key === 'delete' || key === 'backspace')) return 'deleteSelected';
  return null;
}

/** ``actions``: {save, undo, redo, copy, paste, deleteSelected, selectAll, selectNone, connect}, read at each key press (always the latest). */
export function useShortcuts(actions) {
  const latest = useRef(actions);
  latest.current = actions;
  useEffect(() => {
    const onKey = (e) => {
      const action = actionOf(e);
      if (!action) return;
      if (action !== 'copy') e.preventDefault();
      latest.current[action]();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
