// Prints the path of a working Temporal CLI (building and caching it if needed).
// Used by people and scripts: `npm run ensure-temporal`.
import { resolveTemporalCli } from '../tools/devserver/temporal-cli';

resolveTemporalCli({ allowDownload: false })
  .then((cli) => {
    if (cli.source !== 'sdk-download') console.log(cli.path);
  })
  .catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
