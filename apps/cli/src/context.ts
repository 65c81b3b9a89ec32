import { ApiClient } from './api';
import { resolveProfile } from './config';
import { Output, type OutputFormat } from './output';

export interface GlobalOptions {
  output?: OutputFormat;
  profile?: string;
}

/** What every command gets: the output, and (lazily) the API client of the chosen profile. */
export class Context {
  readonly out: Output;

  constructor(readonly options: GlobalOptions) {
    this.out = new Output(options.output ?? 'text');
  }

  api(): ApiClient {
    const profile = resolveProfile(this.options.profile);
    return new ApiClient(profile.url, profile.token);
  }
}
