// File paths <-> file URIs (the engine names files by path; LSP by URI).
import { fileURLToPath, pathToFileURL } from 'node:url';

export function uriToFile(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      /* fall through: not a local file URI */
    }
  }
  return uri;
}

export function fileToUri(file: string): string {
  if (/^[a-z][\w+.-]*:/i.test(file) && !/^[a-z]:[\\/]/i.test(file)) return file;
  return pathToFileURL(file).toString();
}
