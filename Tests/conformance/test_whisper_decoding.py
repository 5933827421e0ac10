"""Beam search and timestamps over audio through real processes, against faster-whisper 1.2.1:
  - beams 2 and 5 (CTranslate2 beam search, patience 1, length penalty 1): for every golden clip,
    our ids equal the reference's, window by window;
  - timestamps, greedy and with 5 beams: for every golden clip, our segments equal the reference's
    exactly (the window's seek, start and end in seconds, token ids with the timestamp tokens, text),
    which also checks that each next window starts where the reference's does;
  - a beam receipt and a timestamped receipt replay after a restart; 1 and 2 threads give the same
    bits; streams add up to the result.

The reference comes from scripts/make_whisper_decoding_golden.py
(Tests/conformance/fixtures/whisper-decoding.json), on the clips of scripts/make_whisper_clips.py."""

import json
import os

import pytest

import wire
from test_whisper import EOT, ROOT, clip_path as golden_clip_path, GOLDEN as CLIP_GOLDEN
from wire import assert_result

HERE = os.path.dirname(os.path.abspath(__file__))
DECODING = json.load(open(os.path.join(HERE, "fixtures", "whisper-decoding.json")))
CLIPS = {c["name"]: c for c in CLIP_GOLDEN["clips"]}


def beam_transcribe(d, name, beams, id, **extra):
    """beams 1 is greedy unless a temperature is given (beam search refuses one)."""
    params = {"model": "whisper-base", "audio": {"path": golden_clip_path(CLIPS[name])}, "language": "en",
              "beams": beams, "maxTokens": 224, **({"temperature": 0} if beams == 1 else {}), **extra}
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


def segment_key(s):
    return s["seek"], s["start"], s["end"], s["tokens"], s["text"]


def test_timestamped_segments_equal_faster_whisper(start_stdio):
    d = start_stdio("--model", "whisper-base", "--no-journal")
    segments, n = 0, 0
    for clip in DECODING["clips"]:
        for size, theirs in sorted(clip["timestamps"].items()):
            n += 1
            r = beam_transcribe(d, clip["name"], int(size), n, timestamps=True)
            assert [segment_key(s) for s in r["segments"]] == [segment_key(s) for s in theirs], (clip["name"], size)
            assert r["text"] == "".join(s["text"] for s in theirs)
            # Every generated token is in the result, the dropped tails of windows included.
            assert r["tokens"] == [t for w in r["windows"] for t in w["tokens"]]
            segments += len(theirs)
    moved = sum(len({s["seek"] for s in c["timestamps"]["1"]}) > 1 for c in DECODING["clips"])
    print(f"\nwhisper-base timestamps: {segments} segments equal over {n} transcripts; "
          f"{moved} clips decoded in windows that start where the timestamps said")
    assert moved >= 2
    d.finish()


def test_beam_and_timestamp_receipts_replay_after_a_restart_and_threads_do_not_change_them(start_stdio, workdir):
    journal = ("--journal", os.path.join(workdir, "journal.jsonl"))
    outputs = []
    for threads in ("1", "2"):
        d = start_stdio("--model", "whisper-base", "--threads", threads, *journal)
        beams = beam_transcribe(d, "ferry", 5, 1, logprobs=True, topLogprobs=3)
        assert len(beams["logprobs"]) == len(beams["tokens"])
        assert beams["receipt"]["request"]["beams"] == 5
        stamped = beam_transcribe(d, "long-lighthouse", 1, 2, timestamps=True, temperature=0.7, seed=11)
        assert stamped["receipt"]["request"]["timestamps"] is True
        outputs.append((beams, stamped))
        d.finish()
    for a, b in zip(*outputs):
        assert a["receipt"]["output"] == b["receipt"]["output"]
    again = start_stdio("--model", "whisper-base", *journal)
    for n, r in enumerate(outputs[0]):
        replay = assert_result(again.call("reproduce", {"id": r["receipt"]["id"]}, id=10 + n, timeout=600), 10 + n)
        assert replay["identical"] is True, replay
    again.finish()


@pytest.mark.parametrize("extra", [{"beams": 2}, {"timestamps": True}], ids=["beams", "timestamps"])
def test_beams_and_timestamps_stream_each_window_once(start_stdio, extra):
    d = start_stdio("--model", "whisper-base", "--no-journal")
    name = next(c["name"] for c in DECODING["clips"] if len(c["beams"]["2"]) > 1)
    params = {"model": "whisper-base", "audio": {"path": golden_clip_path(CLIPS[name])}, "language": "en",
              "temperature": 0, "maxTokens": 224, "stream": True, **extra}
    d.send(wire.request("generate", params, id=1))
    result = assert_result(d.reply_to(1, timeout=600).json, 1)
    notes = [f.json["params"] for f in d.frames if f.json.get("method") == "$/stream"]
    d.frames = [f for f in d.frames if f.json.get("method") != "$/stream"]
    assert "".join(n["text"] for n in notes) == result["text"]
    assert [t for n in notes for t in n["tokens"]] == result["tokens"]
    windows = result.get("windows", result["segments"])
    assert len([n for n in notes if n["tokens"]]) == len(windows) > 1
    d.finish()


def test_timestamps_errors_name_their_path(start_stdio):
    d = start_stdio("--model", "whisper-base", "--no-journal")
    audio = {"path": golden_clip_path(CLIPS["stella"])}
    cases = [
        ({"prompt": "hi", "timestamps": True}, "params.timestamps"),
        ({"audio": audio, "timestamps": "yes"}, "params.timestamps"),
        ({"audio": audio, "beams": 2, "temperature": 0.5}, "params.temperature"),
    ]
    for n, (params, path) in enumerate(cases):
        error = wire.assert_error(d.call("generate", {"model": "whisper-base", "maxTokens": 4, **params}, id=n, timeout=120),
                                  -32602, n)
        assert error["data"]["path"] == path, (params, error)
    d.finish()


def test_concurrent_clips_give_the_bits_each_gives_alone(start_stdio):
    """Concurrent requests' decoder steps run batched in one pass (the scheduler; see
    SchedulerTargetBatchingTests): greedy, sampled, beam and timestamped transcripts at once."""
    d = start_stdio("--model", "whisper-base", "--no-journal")
    requests = [("stella", 1, {}), ("fox", 1, {"temperature": 0.8, "seed": 3}), ("ferry", 3, {}),
                ("bastille", 1, {"timestamps": True})]
    def params(name, beams, extra):
        return {"model": "whisper-base", "audio": {"path": golden_clip_path(CLIPS[name])}, "language": "en",
                "beams": beams, "maxTokens": 224, **({"temperature": 0} if beams == 1 else {}), **extra}
    alone = [assert_result(d.call("generate", params(*r), id=n, timeout=600), n)["receipt"]["output"]
             for n, r in enumerate(requests)]
    for n, r in enumerate(requests):
        d.send(wire.request("generate", params(*r), id=100 + n))
    together = [assert_result(d.reply_to(100 + n, timeout=600).json, 100 + n)["receipt"]["output"]
                for n in range(len(requests))]
    assert together == alone
    d.finish()


def test_a_transcription_is_charged_to_the_memory_budget(start_stdio):
    """Its working memory (one window's encoder pass, cross-attention memory and the sequences'
    caches: about 100 MB greedy, more per beam) counts with the weights: with room for the weights
    and a greedy transcription, a 5-beam one can never fit and is refused with the numbers, and the
    daemon serves on."""
    mib = 1 << 20
    d = start_stdio("--model", "whisper-base", "--no-journal", "--memory-budget", "300")
    weights = next(m for m in assert_result(d.call("models/list", {}, id=1), 1)["models"]
                   if m["name"] == "whisper-base")["residentBytes"]
    assert weights < 300 * mib
    ok = beam_transcribe(d, "stella", 1, 2)
    assert ok["text"].strip()
    error = wire.assert_error(d.call("generate", {"model": "whisper-base", "audio": {"path": golden_clip_path(CLIPS["stella"])},
                                                  "language": "en", "beams": 5}, id=3, timeout=300), -32008, 3)
    assert error["data"]["neededBytes"] > 300 * mib == error["data"]["budgetBytes"], error
    assert "transcription" in error["message"], error
    assert beam_transcribe(d, "stella", 1, 4)["receipt"]["output"] == ok["receipt"]["output"]
    d.finish()


def test_windows_without_speech_keep_no_text_as_faster_whisper(start_stdio, tmp_path):
    """Silence and white noise (made here as the golden script made them, checked by sha256):
    with faster-whisper's no-speech rule nothing is kept; without it (noSpeechThreshold 1) the
    ids are the reference's without the rule; the no-speech probability and the average logprob
    agree with the reference's within 1e-4."""
    import hashlib
    import importlib.util
    spec = importlib.util.spec_from_file_location("golden", os.path.join(ROOT, "scripts", "make_whisper_decoding_golden.py"))
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    paths = golden.no_speech_clips(tmp_path)
    d = start_stdio("--model", "whisper-base", "--no-journal")
    n = 0
    for entry in DECODING["no_speech"]:
        path = paths[entry["name"]]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        for mode in ("plain", "timestamps"):
            for rule in ("rule", "no_rule"):
                n += 1
                params = {"model": "whisper-base", "audio": {"path": str(path)}, "language": "en", "temperature": 0,
                          "maxTokens": 224, "timestamps": mode == "timestamps",
                          **({} if rule == "rule" else {"noSpeechThreshold": 1})}
                r = assert_result(d.call("generate", params, id=n, timeout=300), n)
                theirs = entry[f"{mode}_{rule}"]
                # Without timestamps a segment is a window, its tokens with the <|endoftext|>.
                ours = [s["tokens"] if mode == "timestamps" else s["tokens"][:-1] for s in r["segments"]]
                assert ours == [s["tokens"] for s in theirs], (entry["name"], mode, rule)
                assert r["text"] == "".join(s["text"] for s in theirs)
                if rule == "no_rule":
                    # The reference reports its window's figures on each segment.
                    windows = {w["seek"]: w for w in r["windows"]}
                    for s in theirs:
                        assert abs(windows[s["seek"]]["noSpeechProbability"] - s["no_speech_prob"]) < 1e-4
                        assert abs(windows[s["seek"]]["averageLogprob"] - s["avg_logprob"]) < 1e-4
                    assert not any(w["skipped"] for w in r["windows"])
                else:
                    assert all(w["skipped"] for w in r["windows"]) == (not theirs)
    print(f"\nno-speech rule: {n} transcripts of silence and noise as faster-whisper's")
    d.finish()
