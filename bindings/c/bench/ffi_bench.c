/*
 * Times the SDK's own work (everything outside ONNX Runtime) through the C API of whichever
 * libdermscan_ffi.so the dynamic loader finds (scripts/size-study picks a build variant with
 * LD_LIBRARY_PATH).
 *
 *     ffi_bench IMAGE MODEL_DIR SCANS WARMUP      one line per timed scan:
 *                                                 "<own_ms> <wall_ms> <ort_ms>"
 *     ffi_bench --panic                           exit 0 if a Rust panic came back as
 *                                                 DS_INTERNAL_ERROR (a panic=abort build aborts)
 *
 * One timed iteration = ds_scan_encoded (copy, JPEG decode with EXIF, lesion finder, crop,
 * pre-processing, encoder, decoder, post-processing) + ds_scan_json + ds_scan_mask +
 * ds_mask_png. own_ms = wall_ms - (encoder_ms + decoder_ms), the two ONNX Runtime calls as the
 * scan's own timings report them. Engine: 2 intra-op threads, default scan options.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dermscan.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)size)) != NULL && fread(data, 1, (size_t)size, f) == (size_t)size) {
        *len = (size_t)size;
    } else {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* The number after "key": in the (not NUL-terminated) JSON; -1 when absent. */
static double json_number(const DsBuffer *json, const char *key) {
    char *text = malloc(json->len + 1), *at;
    double value = -1;
    if (!text) return -1;
    memcpy(text, json->data, json->len);
    text[json->len] = '\0';
    if ((at = strstr(text, key)) != NULL && (at = strchr(at, ':')) != NULL) value = strtod(at + 1, NULL);
    free(text);
    return value;
}

int main(int argc, char **argv) {
    DsEngine *engine = NULL;
    DsStatus status;
    unsigned char *bytes;
    size_t len = 0;
    int scans, warmup, i;

    if (argc == 2 && strcmp(argv[1], "--panic") == 0) return ds_self_test_panic() == DS_INTERNAL_ERROR ? 0 : 1;
    if (argc != 5) {
        fprintf(stderr, "usage: ffi_bench IMAGE MODEL_DIR SCANS WARMUP | ffi_bench --panic\n");
        return 2;
    }
    scans = atoi(argv[3]);
    warmup = atoi(argv[4]);
    if (!(bytes = read_file(argv[1], &len))) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    /* NULL runtime: DERMSCAN_ORT_LIB (set by the script). */
    if ((status = ds_engine_new(argv[2], NULL, 2, &engine)) != DS_OK) {
        fprintf(stderr, "ds_engine_new: %d %s\n", (int)status, ds_last_error());
        return 1;
    }
    for (i = 0; i < warmup + scans; i++) {
        DsScan *scan = NULL;
        DsMask *mask = NULL;
        DsBuffer json = {0}, png = {0};
        double t0 = now_ms(), wall, ort;
        if ((status = ds_scan_encoded(engine, bytes, len, NULL, &scan)) != DS_OK ||
            (status = ds_scan_json(scan, &json)) != DS_OK || (status = ds_scan_mask(scan, &mask)) != DS_OK ||
            (status = ds_mask_png(mask, &png)) != DS_OK) {
            fprintf(stderr, "scan failed: %d %s\n", (int)status, ds_last_error());
            return 1;
        }
        wall = now_ms() - t0;
        ort = json_number(&json, "\"encoder_ms\"") + json_number(&json, "\"decoder_ms\"");
        if (i >= warmup) printf("%.3f %.3f %.3f\n", wall - ort, wall, ort);
        ds_buffer_free(&png);
        ds_buffer_free(&json);
        ds_mask_free(mask);
        ds_scan_free(scan);
    }
    ds_engine_free(engine);
    free(bytes);
    return 0;
}
