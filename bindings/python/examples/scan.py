import dermscan

engine = dermscan.Engine(dermscan.EngineConfig(
    model_dir="models/litemedsam",
    runtime_library=dermscan.onnxruntime_library(),  # the onnxruntime wheel's library, or your own
))
with open("assets/samples/forearm-nevi.jpg", "rb") as f:
    scan = engine.scan(dermscan.ImageSource.ENCODED(f.read()), dermscan.ScanOptions())
print(f"lesion box {scan.roi}, {scan.mask.area_px()} px, PNG {len(scan.mask.to_png())} bytes")

# The user taps the lesion: re-prompt on the kept embedding (the encoder does not run again).
tap = dermscan.PointPrompt(x=610, y=700, label=dermscan.PointLabel.POSITIVE)
refined = engine.decode(scan.embedding, dermscan.Prompt(bbox=scan.roi, points=[tap]), dermscan.MaskMode.LESION)
print(f"refined: {refined.area_px()} px")
print(dermscan.not_a_diagnosis())
