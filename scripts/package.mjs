// Builds the .vsix: production bundles, the extension README with image paths valid inside the package, vsce.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--production'], { stdio: 'inherit' });
// vsce puts the README at extension/readme.md: images referenced as media/x.png (next to client/README.md) live at
// client/media/x.png in the package.
const readme = readFileSync(join(root, 'client/README.md'), 'utf8').replace(/\]\(media\//g, '](client/media/');
writeFileSync(join(root, 'dist/README.md'), readme);
execFileSync(join(root, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license',
  '--readme-path', 'dist/README.md', '--no-rewrite-relative-links', '-o', 'mmu-notifier-audit.vsix'], { cwd: root, stdio: 'inherit' });
