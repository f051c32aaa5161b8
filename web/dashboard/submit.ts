// Sending an editor's form: the saved object, or the API's problems mapped to the form's fields.
import { ApiError, api, type Problem } from './api.js';
import { type FieldProblems, fieldProblems } from './forms.js';
import { message } from './message.js';

/** Sends a form's body; on a validation error, the problems for the fields; else the saved object. */
export async function submit<T>(
  method: string,
  path: string,
  body: unknown,
  fields: readonly string[],
): Promise<{ saved: T } | { problems: FieldProblems; notice: string }> {
  try {
    return { saved: await api<T>(method, path, body) };
  } catch (e) {
    const problems: Problem[] = e instanceof ApiError ? e.problems : [];
    return {
      problems: fieldProblems(problems, fields),
      notice: problems.length > 0 ? 'Not saved: fix the problems shown.' : `Not saved: ${message(e)}`,
    };
  }
}
