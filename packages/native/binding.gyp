{
  "targets": [
    {
      "target_name": "moprune_native",
      "sources": ["csrc/addon.cc", "csrc/kernels.cc", "csrc/conv_onednn.cc", "csrc/conv_direct.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node scripts/openblas.mjs include)",
        "<!@(node scripts/onednn.mjs include)"
      ],
      "libraries": ["<!@(node scripts/openblas.mjs libs)", "<!@(node scripts/onednn.mjs libs)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node scripts/onednn.mjs defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-ffp-contract=off", "-fno-math-errno"],
      "ldflags": ["<!@(node scripts/openblas.mjs rpath)", "<!@(node scripts/onednn.mjs rpath)"]
    }
  ]
}
