{"targets": [{"target_name": "tiny_native", "sources": ["tiny_native.c"]}]}
