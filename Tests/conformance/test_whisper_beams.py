"""Beam search over audio through real processes: for every golden clip and beam sizes 2 and 5, our
transcript's ids equal faster-whisper 1.2.1's (CTranslate2 beam search, patience 1, length
penalty 1), window by window; a beam receipt replays after a restart; 1 and 2 threads give the
same bits.

The reference ids come from scripts/make_whisper_decoding_golden.py
(Tests/conformance/fixtures/whisper-decoding.json), on the clips of scripts/make_whisper_clips.py."""

import json
import os

import wire
from test_whisper import EOT, clip_path as golden_clip_path, GOLDEN as CLIP_GOLDEN
from wire import assert_result

HERE = os.path.dirname(os.path.abspath(__file__))
DECODING = json.load(open(os.path.join(HERE, "fixtures", "whisper-decoding.json")))
CLIPS = {c["name"]: c for c in CLIP_GOLDEN["clips"]}


def beam_transcribe(d, name, beams, id, **extra):
    params = {"model": "whisper-base", "audio": {"path": golden_clip_path(CLIPS[name])}, "language": "en",
              "beams": beams, "maxTokens": 224, **extra}
    return assert_result(d.call("generate", params, id=id, timeout=600), id)


def test_beam_ids_equal_faster_whisper(start_stdio):
    d = start_stdio("--model", "whisper-base", "--no-journal")
    compared, n = 0, 0
    for clip in DECODING["clips"]:
        for size, segments in sorted(clip["beams"].items()):
            n += 1
            r = beam_transcribe(d, clip["name"], int(size), n)
            ours = [s["tokens"] for s in r["segments"]]
            theirs = [s["tokens"] + [EOT] for s in segments]
            assert ours == theirs, (clip["name"], size, r["text"], "".join(s["text"] for s in segments))
            assert r["finishReason"] == "stop"
            compared += sum(map(len, theirs))
    differing = sum(c["beams"]["5"] != c["beams"]["2"] for c in DECODING["clips"])
    print(f"\nwhisper-base beams 2 and 5: {compared} reference tokens equal over {n} transcripts "
          f"({differing} clips where the two beam sizes disagree)")
    # The reference must exercise the search: beam transcripts that differ by size, and from greedy.
    assert differing >= 3
    greedy = {c["name"]: [s["tokens"] for s in c["segments"]] for c in CLIP_GOLDEN["clips"]}
    assert sum(greedy[c["name"]] != [s["tokens"] for s in c["beams"]["5"]] for c in DECODING["clips"]) >= 3
    d.finish()


def test_a_beam_receipt_replays_after_a_restart_and_threads_do_not_change_it(start_stdio, workdir):
    journal = ("--journal", os.path.join(workdir, "journal.jsonl"))
    outputs = []
    for threads in ("1", "2"):
        d = start_stdio("--model", "whisper-base", "--threads", threads, *journal)
        r = beam_transcribe(d, "ferry", 5, 1, logprobs=True, topLogprobs=3)
        assert len(r["logprobs"]) == len(r["tokens"])
        assert r["receipt"]["request"]["beams"] == 5
        outputs.append(r)
        d.finish()
    assert outputs[0]["receipt"]["output"] == outputs[1]["receipt"]["output"]
    again = start_stdio("--model", "whisper-base", *journal)
    replay = assert_result(again.call("reproduce", {"id": outputs[0]["receipt"]["id"]}, id=2, timeout=600), 2)
    assert replay["identical"] is True, replay
    again.finish()


def test_beam_search_streams_each_window_once(start_stdio):
    d = start_stdio("--model", "whisper-base", "--no-journal")
    name = next(c["name"] for c in DECODING["clips"] if len(c["beams"]["2"]) > 1)
    params = {"model": "whisper-base", "audio": {"path": golden_clip_path(CLIPS[name])}, "language": "en",
              "beams": 2, "maxTokens": 224, "stream": True}
    d.send(wire.request("generate", params, id=1))
    result = assert_result(d.reply_to(1, timeout=600).json, 1)
    notes = [f.json["params"] for f in d.frames if f.json.get("method") == "$/stream"]
    d.frames = [f for f in d.frames if f.json.get("method") != "$/stream"]
    assert "".join(n["text"] for n in notes) == result["text"]
    assert [t for n in notes for t in n["tokens"]] == result["tokens"]
    assert len([n for n in notes if n["tokens"]]) == len(result["segments"])
    d.finish()
