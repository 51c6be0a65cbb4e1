#!/usr/bin/env bash
# Export, quantise, evaluate and install the segmenter bundles of both families.
#
#   bash tools/export/run_all.sh [litemedsam] [mobilesam] [xception-ham10000]
#
# Needs .venv-export (tools/export/requirements.txt) and, for the Dice against ground truth,
# the synthetic set in target/synth (written by the Rust side). Variants are built into
# tools/export/work/bundles/<family>-<name>; the chosen one (smallest that keeps mean Dice
# within 0.01 of fp32 and mole Dice >= 0.97 against fp32) is written to models/<family>
# with the evaluation table in its README.md. SKIP_EXPORT=1 keeps variant bundles that exist
# already; evaluate.py caches per-bundle results in tools/export/work/eval/cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv-export/bin/python}
SYNTH=${SYNTH:-target/synth}
CALIB=tools/export/work/calib
BUNDLES=tools/export/work/bundles
FAMILIES=("$@")
[ ${#FAMILIES[@]} -eq 0 ] && FAMILIES=(litemedsam mobilesam)

STAGE0=(--qdq-exclude /image_encoder/patch_embed/ --qdq-exclude /image_encoder/layers.0/)
declare -A VARIANTS=(
  [fp32]="--variant fp32"
  [int8-dynamic]="--variant int8-dynamic"
  [int8-dynamic-dec8]="--variant int8-dynamic --decoder int8-dynamic"
  [int8-dynamic-s8]="--variant int8-dynamic --dynamic-weights qint8"
  [int8-dynamic-s8-dec8]="--variant int8-dynamic --dynamic-weights qint8 --decoder int8-dynamic"
  [int8-qdq]="--variant int8-qdq --calib-dir $CALIB"
  [int8-qdq-s0fp32]="--variant int8-qdq --calib-dir $CALIB ${STAGE0[*]}"
  [int8-qdq-s0fp32-dec8]="--variant int8-qdq --calib-dir $CALIB ${STAGE0[*]} --decoder int8-dynamic"
)
LEGEND="Bundle names: \`int8-dynamic\` = encoder with dynamic int8 MatMuls (QUInt8 weights, per channel; Conv stays fp32); \
\`-s8\` = the same with QInt8 weights; \`int8-qdq\` = static QDQ encoder (per-channel QInt8 weights, QUInt8 activations, \
MinMax calibration on 17 images: 9 sample-photo crops and 8 of the synthetic images); \`-s0fp32\` = QDQ with the patch \
embedding and stage 0 (MBConv) kept fp32; \`-dec8\` = decoder with dynamic int8 MatMuls too (same weight type). \
The manifest variant is the encoder's (\`fp32\`, \`int8-dynamic\` or \`int8-qdq\`)."
ORDER=(fp32 int8-dynamic int8-dynamic-dec8 int8-dynamic-s8 int8-dynamic-s8-dec8 int8-qdq int8-qdq-s0fp32 int8-qdq-s0fp32-dec8)

if [ "${FAMILIES[*]}" != xception-ham10000 ]; then
  $PY tools/export/make_calib.py --out "$CALIB" --synth "$SYNTH"
fi

for fam in "${FAMILIES[@]}"; do
  if [ "$fam" = xception-ham10000 ]; then
    # the classifier: export, parity, variants and the rule's choice in one call
    $PY tools/export/export.py --family xception-ham10000 --synth "$SYNTH" --out models/ham10000-xception
    continue
  fi
  reuse=""
  args=()
  for v in "${ORDER[@]}"; do
    if [ -z "${SKIP_EXPORT:-}" ] || [ ! -f "$BUNDLES/$fam-$v/manifest.json" ]; then
      # shellcheck disable=SC2086
      $PY tools/export/export.py --family "$fam" ${VARIANTS[$v]} $reuse --out "$BUNDLES/$fam-$v"
    fi
    reuse="--reuse-fp32"
    args+=(--bundle "$v=$BUNDLES/$fam-$v")
  done
  $PY tools/export/evaluate.py --family "$fam" "${args[@]}" --synth "$SYNTH" --out "tools/export/work/eval/$fam" \
      --retime 15 --note "$LEGEND"
  chosen=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['chosen'])" "tools/export/work/eval/$fam/results.json")
  echo "[run_all] $fam: chosen $chosen"
  # shellcheck disable=SC2086
  $PY tools/export/export.py --family "$fam" ${VARIANTS[$chosen]} --reuse-fp32 \
      --eval-report "tools/export/work/eval/$fam/report.md" --out "models/$fam"
done
