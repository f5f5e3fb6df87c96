"""Runs one mini-batch of a batch scoring job inside its child command job (Studio copies this
file into the job's code as `_studio_batch_driver.py`):

    python _studio_batch_driver.py --data <input folder> --model <model folder> --entry score.py
                                   --timeout 30 [--no-rows]

It sets AZUREML_MODEL_DIR, imports the driver script, calls its init() once and its
run(mini_batch) with the mini-batch's file paths (the JSON list in STUDIO_BATCH_FILES, relative to
the input), within `timeout` seconds. What run() returns (a pandas DataFrame, or a list of rows:
strings, lists or dicts) goes to outputs/part.csv, with outputs/part.json saying how many rows and
which header; the parent job merges the parts in mini-batch order. With --no-rows (Azure's
output_action: summary_only) the rows are only counted: as in Azure, each returned element is one
input scored, and the script writes its own results under AZUREML_BI_OUTPUT_PATH.

A run() past its timeout is interrupted by SIGALRM (a BaseException, so `except Exception` in the
script does not swallow it); one stuck in native code that the signal cannot reach is ended by a
watchdog thread a few seconds later. Either way the process exits with 3 and the mini-batch is
retried (retry_settings.max_retries).
"""

import argparse
import csv
import importlib.util
import json
import os
import signal
import sys
import threading


def _rows(result):
    """(header or None, rows as lists) from what run() returned."""
    if result is None:
        return None, []
    if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a pandas DataFrame
        return [str(c) for c in result.columns], result.values.tolist()
    if isinstance(result, dict):
        result = [result]
    if not isinstance(result, (list, tuple)) and hasattr(result, "tolist"):  # a numpy array or Series
        result = result.tolist()
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"run() returned a {type(result).__name__}; return a list of rows or a pandas DataFrame.")
    header, rows = None, []
    for item in result:
        if isinstance(item, dict):
            if header is None:
                header = [str(k) for k in item]
            rows.append([item.get(k) for k in header])
        elif isinstance(item, (list, tuple)):
            rows.append(list(item))
        else:
            rows.append([item])
    return header, rows


EXIT_TIMED_OUT = 3
WATCHDOG_GRACE = 5  # seconds after the alarm before the watchdog ends the process


class _TimedOut(BaseException):
    pass


def _alarm(_signum, _frame):
    raise _TimedOut()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default="")
    parser.add_argument("--entry", required=True)
    parser.add_argument("--timeout", type=int, default=30)
    parser.add_argument("--no-rows", action="store_true")
    args = parser.parse_args(argv)

    files = json.loads(os.environ["STUDIO_BATCH_FILES"])
    data = args.data
    paths = [data if os.path.isfile(data) else os.path.join(data, rel) for rel in files]
    if args.model:
        os.environ["AZUREML_MODEL_DIR"] = args.model
    outputs = os.path.abspath("outputs")
    os.makedirs(outputs, exist_ok=True)
    os.environ.setdefault("AZUREML_BI_OUTPUT_PATH", outputs)

    entry = os.path.abspath(args.entry)
    sys.path.insert(0, os.path.dirname(entry))
    spec = importlib.util.spec_from_file_location("batch_driver_entry", entry)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(f"Mini-batch of {len(paths)} files: {', '.join(files)}", flush=True)
    if hasattr(module, "init"):
        module.init()
    message = f"run() did not finish within {args.timeout} s (retry_settings.timeout)."

    def _watchdog():
        print(message, file=sys.stderr, flush=True)
        os._exit(EXIT_TIMED_OUT)

    watchdog = threading.Timer(args.timeout + WATCHDOG_GRACE, _watchdog)
    watchdog.daemon = True
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(args.timeout)
    watchdog.start()
    try:
        result = module.run(paths)
    except _TimedOut:
        print(message, file=sys.stderr, flush=True)
        return EXIT_TIMED_OUT
    finally:
        signal.alarm(0)
        watchdog.cancel()
    header, rows = _rows(result)
    if not args.no_rows:
        with open(os.path.join(outputs, "part.csv"), "w", newline="") as handle:
            csv.writer(handle).writerows(rows)
    with open(os.path.join(outputs, "part.json"), "w") as handle:
        json.dump({"files": len(paths), "rows": len(rows), "header": header}, handle)
    print(f"Scored {len(paths)} files into {len(rows)} rows.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
