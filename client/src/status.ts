// Status bar item: the number of findings; a click opens the Problems view.
import * as vscode from 'vscode';
import type { StatusParams } from '../../server/src/protocol';

export class FindingsStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('notifierAudit.status', vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = 'MMU Notifier Audit';
    this.item.command = 'workbench.actions.view.problems';
    this.item.text = '$(sync~spin) MMU notifier';
    this.item.tooltip = 'MMU Notifier Audit: starting';
    this.item.show();
  }

  update(s: StatusParams): void {
    if (s.busy) {
      // The workspace scan is running: no count yet (a green check with 0 would say the tree is clean).
      this.item.text = '$(sync~spin) MMU notifier: scanning';
      this.item.tooltip = `MMU Notifier Audit: scanning the workspace (${s.files} file(s) so far); kernel ${s.kernelVersion}.`;
      return;
    }
    this.item.text = `${s.findings ? '$(warning)' : '$(check)'} MMU notifier: ${s.findings}`;
    this.item.tooltip = `MMU Notifier Audit: ${s.findings} finding(s) in ${s.files} file(s); kernel ${s.kernelVersion}. Click to open Problems.`;
  }

  stopped(): void {
    this.item.text = '$(circle-slash) MMU notifier';
    this.item.tooltip = 'MMU Notifier Audit: server stopped';
  }

  dispose(): void {
    this.item.dispose();
  }
}
