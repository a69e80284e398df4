import { createRoot } from 'react-dom/client';
import { ReactFlowProvider } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './editor.css';
import App from './App.jsx';

let root = document.getElementById('editor-root');
if (!root) {
  root = document.createElement('div');
  root.id = 'editor-root';
  document.body.appendChild(root);
}
createRoot(root).render(<ReactFlowProvider><App /></ReactFlowProvider>);
