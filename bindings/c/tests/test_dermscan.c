/*
 * Tests of the Derm-Scan C API.
 *
 * Run from the repository root (bindings/c/run-tests.sh does):
 *     test_dermscan                 every check, on models/litemedsam
 *     test_dermscan --quick         the reduced set: engine errors, one scan from bytes (a PNG
 *                                   made here), box and point re-prompts, the bad inputs, the
 *                                   panic, one raw scan after it, and the history store's
 *                                   keys, locking and bad arguments (no scan stored)
 *     ... --model DIR               another bundle (run-tests.sh runs the quick set under
 *                                   valgrind on bindings/c/tests/tiny-litemedsam)
 *
 * The quick set only scans 256x256 images with a given box and DS_CROP_WHOLE_IMAGE, so that
 * no image is resampled (256 px is LiteMedSAM's input size): valgrind 3.19 (Debian 12) cannot
 * execute fast_image_resize's AVX2 resampling kernel (an unhandled `vmovq xmm, xmm` encoding,
 * SIGILL) on CPUs with AVX2. The full set also scans the sample photo, uses two threads, and
 * stores two scans of a lesion in the history store, compares them and writes the report.
 *
 * Prints one PASS/FAIL line per check, then "N passed, M failed"; exits non-zero when any
 * check failed. ONNX Runtime loads once per process, so the runtime-path errors come before
 * the first successful engine.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dermscan.h"

#define SAMPLE "assets/samples/forearm-nevi.jpg"

/* The bundle under test: models/litemedsam, or --model DIR. */
static const char *model_dir = "models/litemedsam";
static int failures = 0;
static int passes = 0;

static void check(int ok, const char *what) {
    if (ok) {
        passes++;
        printf("PASS %s\n", what);
    } else {
        failures++;
        printf("FAIL %s (last error: \"%s\")\n", what, ds_last_error());
    }
    fflush(stdout);
}

static const char *status_name(DsStatus s) {
    switch (s) {
    case DS_OK: return "DS_OK";
    case DS_IMAGE_ERROR: return "DS_IMAGE_ERROR";
    case DS_MODEL_ERROR: return "DS_MODEL_ERROR";
    case DS_RUNTIME_ERROR: return "DS_RUNTIME_ERROR";
    case DS_PROMPT_ERROR: return "DS_PROMPT_ERROR";
    case DS_INFERENCE_ERROR: return "DS_INFERENCE_ERROR";
    case DS_CANCELLED: return "DS_CANCELLED";
    case DS_INVALID_ARGUMENT: return "DS_INVALID_ARGUMENT";
    case DS_INTERNAL_ERROR: return "DS_INTERNAL_ERROR";
    case DS_STORE_KEY_REQUIRED: return "DS_STORE_KEY_REQUIRED";
    case DS_STORE_WRONG_KEY: return "DS_STORE_WRONG_KEY";
    case DS_STORE_NOT_ENCRYPTED: return "DS_STORE_NOT_ENCRYPTED";
    case DS_STORE_CORRUPT: return "DS_STORE_CORRUPT";
    case DS_STORE_READ_ONLY: return "DS_STORE_READ_ONLY";
    case DS_STORE_FULL: return "DS_STORE_FULL";
    case DS_STORE_NEWER_SCHEMA: return "DS_STORE_NEWER_SCHEMA";
    case DS_STORE_LOCKED: return "DS_STORE_LOCKED";
    case DS_LESION_NOT_FOUND: return "DS_LESION_NOT_FOUND";
    case DS_SCAN_NOT_FOUND: return "DS_SCAN_NOT_FOUND";
    case DS_DUPLICATE_LABEL: return "DS_DUPLICATE_LABEL";
    case DS_STORE_ERROR: return "DS_STORE_ERROR";
    }
    return "unknown status";
}

/* A failed call: the expected code, a non-empty message. */
static void check_error(DsStatus got, DsStatus want, const char *what) {
    char line[512];
    const char *message = ds_last_error();
    int ok = got == want && message != NULL && message[0] != '\0';
    snprintf(line, sizeof line, "%s -> %s (want %s): %s", what, status_name(got), status_name(want), message ? message : "(null)");
    check(ok, line);
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        data = malloc((size_t)size);
        if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
            free(data);
            data = NULL;
        }
        *len = (size_t)size;
    }
    fclose(f);
    return data;
}

static int write_file(const char *path, const unsigned char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return 0;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static int copy_file(const char *from, const char *to) {
    size_t len = 0;
    unsigned char *data = read_file(from, &len);
    int ok = data != NULL && write_file(to, data, len);
    free(data);
    return ok;
}

/* A width x height RGBA image of skin (with a little texture) and a dark disc in the middle. */
static unsigned char *skin_with_disc(unsigned width, unsigned height, unsigned radius) {
    unsigned char *px = malloc((size_t)width * height * 4);
    unsigned x, y;
    if (!px) return NULL;
    for (y = 0; y < height; y++) {
        for (x = 0; x < width; x++) {
            unsigned char *p = px + ((size_t)y * width + x) * 4;
            double dx = (double)x - width / 2.0, dy = (double)y - height / 2.0;
            int noise = (int)((x * 7 + y * 13) % 9) - 4;
            if (dx * dx + dy * dy <= (double)radius * radius) {
                p[0] = (unsigned char)(70 + noise);
                p[1] = (unsigned char)(45 + noise);
                p[2] = (unsigned char)(35 + noise);
            } else {
                p[0] = (unsigned char)(224 + noise);
                p[1] = (unsigned char)(178 + noise);
                p[2] = (unsigned char)(150 + noise);
            }
            p[3] = 255;
        }
    }
    return px;
}

/* The mask's pixel at (x, y), or -1 when it cannot be read. */
static int mask_pixel(const DsMask *mask, unsigned x, unsigned y) {
    DsBuffer buf = {0};
    int value = -1;
    unsigned w = ds_mask_width(mask), h = ds_mask_height(mask);
    if (ds_mask_pixels(mask, &buf) == DS_OK && buf.len == (size_t)w * h && x < w && y < h) {
        value = buf.data[(size_t)y * w + x];
    }
    ds_buffer_free(&buf);
    return value;
}

/* The box around the mask's lesion pixels; 0 when the mask is empty. */
static int mask_box(const DsMask *mask, float box[4]) {
    DsBuffer buf = {0};
    unsigned w = ds_mask_width(mask), h = ds_mask_height(mask), x, y;
    unsigned x0 = w, y0 = h, x1 = 0, y1 = 0;
    if (ds_mask_pixels(mask, &buf) != DS_OK) return 0;
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            if (buf.data[(size_t)y * w + x]) {
                if (x < x0) x0 = x;
                if (y < y0) y0 = y;
                if (x + 1 > x1) x1 = x + 1;
                if (y + 1 > y1) y1 = y + 1;
            }
        }
    }
    ds_buffer_free(&buf);
    if (x1 == 0) return 0;
    box[0] = (float)x0;
    box[1] = (float)y0;
    box[2] = (float)x1;
    box[3] = (float)y1;
    return 1;
}

static uint32_t crc32(const unsigned char *data, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < len; i++) {
        crc ^= data[i];
        for (k = 0; k < 8; k++) crc = (crc & 1u) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return ~crc;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A valid 1x1 RGB PNG whose IHDR then declares 100000 x 100000 pixels (CRC fixed up), as
 * tests/inputs.rs builds it: the SDK must refuse it from the header, before allocating. */
static size_t png_bomb(unsigned char out[128]) {
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /* zlib stream of one stored block: filter byte 0 and one black pixel. */
    static const unsigned char idat[15] = {0x78, 0x01, 0x01, 0x04, 0x00, 0xfb, 0xff, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x01};
    size_t n = 0;
    memcpy(out, signature, 8);
    n = 8;
    put_be32(out + n, 13);
    memcpy(out + n + 4, "IHDR", 4);
    put_be32(out + n + 8, 100000);  /* width */
    put_be32(out + n + 12, 100000); /* height */
    out[n + 16] = 8;                /* bit depth */
    out[n + 17] = 2;                /* colour type RGB */
    out[n + 18] = out[n + 19] = out[n + 20] = 0;
    put_be32(out + n + 21, crc32(out + n + 4, 17));
    n += 25;
    put_be32(out + n, sizeof idat);
    memcpy(out + n + 4, "IDAT", 4);
    memcpy(out + n + 8, idat, sizeof idat);
    put_be32(out + n + 8 + sizeof idat, crc32(out + n + 4, 4 + sizeof idat));
    n += 12 + sizeof idat;
    put_be32(out + n, 0);
    memcpy(out + n + 4, "IEND", 4);
    put_be32(out + n + 8, crc32(out + n + 4, 4));
    return n + 12;
}

/* A width x height RGB image as a PNG file (stored, uncompressed deflate blocks); the caller
 * frees it. */
static unsigned char *png_rgb(const unsigned char *rgba, unsigned width, unsigned height, size_t *len) {
    size_t row = (size_t)width * 3 + 1, raw_len = row * height;
    size_t blocks = raw_len / 65535 + 1;
    size_t zlen = 2 + raw_len + blocks * 5 + 4;
    size_t total = 8 + 25 + 12 + zlen + 12, n = 0, i, done;
    unsigned char *out = malloc(total), *z;
    uint32_t s1 = 1, s2 = 0;
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!out) return NULL;
    memcpy(out, signature, 8);
    n = 8;
    put_be32(out + n, 13);
    memcpy(out + n + 4, "IHDR", 4);
    put_be32(out + n + 8, width);
    put_be32(out + n + 12, height);
    out[n + 16] = 8;
    out[n + 17] = 2;
    out[n + 18] = out[n + 19] = out[n + 20] = 0;
    put_be32(out + n + 21, crc32(out + n + 4, 17));
    n += 25;
    put_be32(out + n, (uint32_t)zlen);
    memcpy(out + n + 4, "IDAT", 4);
    z = out + n + 8;
    z[0] = 0x78;
    z[1] = 0x01;
    z += 2;
    for (done = 0, i = 0; i < blocks; i++) {
        size_t take = raw_len - done < 65535 ? raw_len - done : 65535, k;
        z[0] = i + 1 == blocks ? 1 : 0;
        z[1] = (unsigned char)(take & 0xff);
        z[2] = (unsigned char)(take >> 8);
        z[3] = (unsigned char)(~take & 0xff);
        z[4] = (unsigned char)((~take >> 8) & 0xff);
        z += 5;
        for (k = 0; k < take; k++, done++) {
            size_t r = done / row, c = done % row;
            unsigned char v = c == 0 ? 0 : rgba[(r * width + (c - 1) / 3) * 4 + (c - 1) % 3];
            *z++ = v;
            s1 = (s1 + v) % 65521;
            s2 = (s2 + s1) % 65521;
        }
    }
    put_be32(z, (s2 << 16) | s1);
    put_be32(out + n + 8 + zlen, crc32(out + n + 4, 4 + zlen));
    n += 12 + zlen;
    put_be32(out + n, 0);
    memcpy(out + n + 4, "IEND", 4);
    put_be32(out + n + 8, crc32(out + n + 4, 4));
    *len = n + 12;
    return out;
}

/* Options with the disc's box (plus a margin) and the whole image as the encoder's input. */
static DsScanOptions disc_options(unsigned size) {
    DsScanOptions o;
    float r = (float)(size / 6) + 10.0f, c = (float)size / 2.0f;
    memset(&o, 0, sizeof o);
    o.has_box = true;
    o.x0 = c - r;
    o.y0 = c - r;
    o.x1 = c + r;
    o.y1 = c + r;
    o.crop = DS_CROP_WHOLE_IMAGE;
    o.mask_mode = DS_MASK_MODE_LESION;
    return o;
}

/* --- runtime and bundle errors (before the first successful engine) --------------------- */

static void test_engine_errors(void) {
    DsEngine *engine = (DsEngine *)1;
    char dir_template[] = "/tmp/dermscan-c-test-XXXXXX";
    char path[512], from[512];
    const char *files[] = {"manifest.json", "encoder.onnx", "decoder.onnx"};
    size_t i;

    check_error(ds_engine_new(model_dir, "/no/such/libonnxruntime.so", 1, &engine), DS_RUNTIME_ERROR,
                "engine with a missing runtime library");
    check(engine == NULL, "a failed ds_engine_new sets *out to NULL");
    snprintf(path, sizeof path, "%s/manifest.json", model_dir);
    check_error(ds_engine_new(model_dir, path, 1, &engine), DS_RUNTIME_ERROR, "engine with a runtime library that is not a library");

    check_error(ds_engine_new(NULL, NULL, 1, &engine), DS_INVALID_ARGUMENT, "engine with NULL model_dir");
    check_error(ds_engine_new(model_dir, NULL, 1, NULL), DS_INVALID_ARGUMENT, "engine with NULL out");
    check_error(ds_engine_new("no/such/model", NULL, 1, &engine), DS_MODEL_ERROR, "engine with a missing model dir");

    /* A copy of the bundle with one byte of encoder.onnx flipped. */
    if (!mkdtemp(dir_template)) {
        check(0, "mkdtemp for the tampered bundle");
        return;
    }
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(from, sizeof from, "%s/%s", model_dir, files[i]);
        snprintf(path, sizeof path, "%s/%s", dir_template, files[i]);
        if (!copy_file(from, path)) check(0, "copy the bundle");
    }
    snprintf(path, sizeof path, "%s/encoder.onnx", dir_template);
    {
        size_t len = 0;
        unsigned char *data = read_file(path, &len);
        if (data && len > 0) {
            data[len / 2] ^= 0x01;
            write_file(path, data, len);
        }
        free(data);
    }
    check_error(ds_engine_new(dir_template, NULL, 1, &engine), DS_MODEL_ERROR, "engine with one flipped byte in encoder.onnx");
    ds_engine_free(engine); /* NULL unless the check above failed */
    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir_template, files[i]);
        unlink(path);
    }
    rmdir(dir_template);
}

/* --- scans ---------------------------------------------------------------------------------- */

/* Scans encoded bytes and checks the JSON, the mask handle and its buffers. */
static DsScan *test_scan(const DsEngine *engine, const char *name, const unsigned char *bytes, size_t len, const DsScanOptions *options,
                         unsigned width, unsigned height, const char *source) {
    DsScan *scan = NULL;
    DsMask *mask = NULL;
    DsBuffer json = {0}, png = {0}, pixels = {0};
    char line[256], *text;

    snprintf(line, sizeof line, "scan %s from bytes", name);
    check(ds_scan_encoded(engine, bytes, len, options, &scan) == DS_OK && scan != NULL, line);
    if (!scan) return NULL;
    check(ds_last_error()[0] == '\0', "ds_last_error is empty after a successful call");

    check(ds_scan_json(scan, &json) == DS_OK && json.len > 2, "ds_scan_json");
    text = malloc(json.len + 1);
    if (text) {
        memcpy(text, json.data, json.len);
        text[json.len] = '\0';
        check(text[0] == '{' && text[json.len - 1] == '}', "JSON is an object");
        check(strstr(text, "\"family\":\"litemedsam\"") != NULL, "JSON names the model family litemedsam");
        check(strstr(text, ds_not_a_diagnosis()) != NULL, "JSON carries the disclaimer");
        snprintf(line, sizeof line, "\"source\":\"%s\"", source);
        check(strstr(text, line) != NULL, "JSON roi source");
        check(strstr(text, "\"contour\":[[") != NULL && strstr(text, "\"timings_ms\"") != NULL && strstr(text, "\"iou_score\"") != NULL,
              "JSON has contour, iou_score and timings");
        check(strstr(text, "\"lesions\":[{\"box\":") != NULL, "JSON lists the lesions found, the primary first");
        free(text);
    }
    ds_buffer_free(&json);
    check(json.data == NULL && json.len == 0, "ds_buffer_free zeroes the buffer");
    ds_buffer_free(&json); /* a second free of a zeroed buffer is a no-op */

    check(ds_scan_mask(scan, &mask) == DS_OK && mask != NULL, "ds_scan_mask");
    snprintf(line, sizeof line, "mask has the photo's size (%ux%u)", width, height);
    check(ds_mask_width(mask) == width && ds_mask_height(mask) == height, line);
    check(ds_mask_area(mask) > 0, "mask area > 0");
    check(ds_mask_png(mask, &png) == DS_OK && png.len > 8 && memcmp(png.data, "\x89PNG", 4) == 0, "ds_mask_png is a PNG file");
    if (ds_mask_pixels(mask, &pixels) == DS_OK && pixels.len == (size_t)ds_mask_width(mask) * ds_mask_height(mask)) {
        uint64_t lesion = 0;
        size_t i;
        int binary = 1;
        for (i = 0; i < pixels.len; i++) {
            if (pixels.data[i] == 255) lesion++;
            else if (pixels.data[i] != 0) binary = 0;
        }
        check(binary && lesion == ds_mask_area(mask), "mask pixels are 0/255 and count the area");
    } else {
        check(0, "ds_mask_pixels");
    }
    ds_buffer_free(&png);
    ds_buffer_free(&pixels);
    ds_mask_free(mask);
    return scan;
}

/* Box and point re-prompts on a scan's kept embedding (only the decoder runs). */
static void test_reprompt(const DsEngine *engine, const DsScan *scan) {
    DsMask *first = NULL, *boxed = NULL, *pointed = NULL, *failed = (DsMask *)1;
    DsPoint points[2];
    float box[4], w, h;
    if (ds_scan_mask(scan, &first) != DS_OK || !mask_box(first, box)) {
        check(0, "box of the scan's mask");
        ds_mask_free(first);
        return;
    }
    w = (float)ds_mask_width(first);
    h = (float)ds_mask_height(first);
    /* The lesion's box with a margin, kept inside the photo. */
    box[0] = box[0] > 8 ? box[0] - 8 : 0;
    box[1] = box[1] > 8 ? box[1] - 8 : 0;
    box[2] = box[2] + 8 < w ? box[2] + 8 : w;
    box[3] = box[3] + 8 < h ? box[3] + 8 : h;
    check(ds_reprompt_box(engine, scan, box[0], box[1], box[2], box[3], &boxed) == DS_OK && ds_mask_area(boxed) > 0,
          "re-prompt with a box on the kept embedding");

    points[0].x = (box[0] + box[2]) / 2;
    points[0].y = (box[1] + box[3]) / 2;
    points[0].positive = 1;
    /* Skin up and left of the lesion, half a box away (inside the encoded window). */
    points[1].x = box[0] - (box[2] - box[0]) / 2 > 0 ? box[0] - (box[2] - box[0]) / 2 : 0;
    points[1].y = box[1] - (box[3] - box[1]) / 2 > 0 ? box[1] - (box[3] - box[1]) / 2 : 0;
    points[1].positive = 0;
    check(ds_reprompt_points(engine, scan, points, 2, &pointed) == DS_OK && ds_mask_area(pointed) > 0 &&
              mask_pixel(pointed, (unsigned)points[0].x, (unsigned)points[0].y) == 255,
          "re-prompt with a positive and a negative point (the clicked pixel is lesion)");

    check_error(ds_reprompt_points(engine, scan, NULL, 0, &failed), DS_PROMPT_ERROR, "re-prompt with no points");
    check(failed == NULL, "a failed re-prompt sets *out to NULL");
    check_error(ds_reprompt_points(engine, scan, NULL, 3, &failed), DS_INVALID_ARGUMENT, "re-prompt with NULL points and n = 3");
    check_error(ds_reprompt_box(engine, scan, -100, -100, 50000, 50000, &failed), DS_PROMPT_ERROR, "re-prompt with a box outside the photo");
    check_error(ds_reprompt_box(engine, scan, 20, 20, 10, 30, &failed), DS_PROMPT_ERROR, "re-prompt with an inverted box");
    check_error(ds_reprompt_box(engine, scan, NAN, 0, 10, 10, &failed), DS_PROMPT_ERROR, "re-prompt with a NaN box");
    check_error(ds_reprompt_box(NULL, scan, 0, 0, 10, 10, &failed), DS_INVALID_ARGUMENT, "re-prompt with a NULL engine");
    check_error(ds_reprompt_box(engine, NULL, 0, 0, 10, 10, &failed), DS_INVALID_ARGUMENT, "re-prompt with a NULL scan");
    check_error(ds_reprompt_box(engine, scan, 0, 0, 10, 10, NULL), DS_INVALID_ARGUMENT, "re-prompt with a NULL out");
    ds_mask_free(first);
    ds_mask_free(boxed);
    ds_mask_free(pointed);
}

/* A raw RGBA scan of a size x size skin image with a dark disc in the middle; `with_box`: the
 * disc's box and the whole image as input (no resampling), else the lesion finder's box. */
static void test_raw(const DsEngine *engine, unsigned size, int with_box, const char *what) {
    unsigned char *px = skin_with_disc(size, size, size / 6);
    DsScanOptions options = disc_options(size);
    DsScan *scan = NULL;
    DsMask *mask = NULL;
    if (!px) return;
    check(ds_scan_raw(engine, px, (size_t)size * size * 4, size, size, size * 4, DS_PIXEL_FORMAT_RGBA8, with_box ? &options : NULL,
                      &scan) == DS_OK &&
              ds_scan_mask(scan, &mask) == DS_OK,
          what);
    check(ds_mask_width(mask) == size && ds_mask_height(mask) == size && mask_pixel(mask, size / 2, size / 2) == 255,
          "raw scan: the dark disc's centre pixel is 255");
    check(mask_pixel(mask, 2, 2) == 0, "raw scan: the corner is skin (0)");
    ds_mask_free(mask);
    ds_scan_free(scan);
    free(px);
}

/* v rounded to the nearest of 0..255. */
static unsigned char byte_level(double v) {
    return (unsigned char)(v <= 0.0 ? 0 : v >= 255.0 ? 255 : (int)(v + 0.5));
}

/* A YUV camera frame as Android hands it out: the upright 256x192 skin-and-disc image stored
 * turned a quarter counter-clockwise (192x256), NV21 memory (one V,U plane, padded rows) seen as
 * three planes with pixel stride 2, full-range BT.601, rotation 90 to make it upright. */
static void test_yuv(const DsEngine *engine) {
    enum { UW = 256, UH = 192, SW = UH, SH = UW, YS = SW + 16, CW = SW / 2, CH = SH / 2, CS = 2 * CW + 8 };
    unsigned char *upright = skin_with_disc(UW, UH, UH / 6);
    unsigned char *y = calloc((size_t)YS * SH, 1), *vu = calloc((size_t)CS * CH, 1);
    DsScanOptions options;
    DsYuvFrame frame;
    DsScan *scan = NULL;
    DsMask *mask = NULL;
    unsigned xs, ys;
    float r = UH / 6.0f + 10.0f;
    if (!upright || !y || !vu) goto done;
    for (ys = 0; ys < SH; ys++) {
        for (xs = 0; xs < SW; xs++) {
            const unsigned char *p = upright + ((size_t)xs * UW + (UW - 1 - ys)) * 4;
            double luma = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
            y[(size_t)ys * YS + xs] = byte_level(luma);
            if (xs % 2 == 0 && ys % 2 == 0) {
                unsigned char *c = vu + (size_t)(ys / 2) * CS + xs;
                c[0] = byte_level((p[0] - luma) / 1.402 + 128.0);
                c[1] = byte_level((p[2] - luma) / 1.772 + 128.0);
            }
        }
    }
    memset(&frame, 0, sizeof frame);
    frame.width = SW;
    frame.height = SH;
    frame.y = (DsYuvPlane){y, (size_t)YS * (SH - 1) + SW, YS, 1};
    frame.u = (DsYuvPlane){vu + 1, (size_t)CS * (CH - 1) + 2 * CW - 1, CS, 2};
    frame.v = (DsYuvPlane){vu, (size_t)CS * (CH - 1) + 2 * CW - 1, CS, 2};
    frame.range = DS_YUV_RANGE_FULL;
    frame.matrix = DS_YUV_MATRIX_BT601;
    frame.rotation_degrees = 90;
    memset(&options, 0, sizeof options);
    options.has_box = true;
    options.x0 = UW / 2.0f - r;
    options.y0 = UH / 2.0f - r;
    options.x1 = UW / 2.0f + r;
    options.y1 = UH / 2.0f + r;
    check(ds_scan_yuv(engine, &frame, &options, &scan) == DS_OK && ds_scan_mask(scan, &mask) == DS_OK,
          "YUV_420_888 frame (NV21 memory, rotation 90): scan");
    check(ds_mask_width(mask) == UW && ds_mask_height(mask) == UH, "YUV frame: the mask has the upright size (256x192)");
    check(mask_pixel(mask, UW / 2, UH / 2) == 255 && mask_pixel(mask, 2, 2) == 0, "YUV frame: the disc is lesion, the corner skin");
    ds_mask_free(mask);
    ds_scan_free(scan);
    scan = NULL;

    frame.range = 7;
    check_error(ds_scan_yuv(engine, &frame, &options, &scan), DS_INVALID_ARGUMENT, "YUV range 7");
    frame.range = DS_YUV_RANGE_VIDEO;
    frame.matrix = 9;
    check_error(ds_scan_yuv(engine, &frame, &options, &scan), DS_INVALID_ARGUMENT, "YUV matrix 9");
    frame.matrix = DS_YUV_MATRIX_BT709;
    frame.rotation_degrees = 45;
    check_error(ds_scan_yuv(engine, &frame, &options, &scan), DS_IMAGE_ERROR, "YUV rotation 45");
    frame.rotation_degrees = 0;
    frame.u.len = 100;
    check_error(ds_scan_yuv(engine, &frame, &options, &scan), DS_IMAGE_ERROR, "YUV chroma plane too short");
    frame.u.len = frame.v.len;
    frame.y.pixel_stride = 2;
    check_error(ds_scan_yuv(engine, &frame, &options, &scan), DS_IMAGE_ERROR, "YUV luma pixel stride 2");
    frame.y.data = NULL;
    check_error(ds_scan_yuv(engine, &frame, &options, &scan), DS_INVALID_ARGUMENT, "YUV luma NULL with a length");
    check_error(ds_scan_yuv(engine, NULL, &options, &scan), DS_INVALID_ARGUMENT, "YUV NULL frame");
done:
    free(upright);
    free(y);
    free(vu);
}

/* A photo of plain skin (the disc of radius 0 is one dark pixel, a speck): the scan answers
 * "no lesion found" instead of segmenting a phantom. */
static void test_no_lesion(const DsEngine *engine) {
    const unsigned size = 256;
    unsigned char *px = skin_with_disc(size, size, 0);
    DsScan *scan = NULL;
    DsMask *mask = NULL;
    DsBuffer json = {0};
    if (!px) return;
    check(ds_scan_raw(engine, px, (size_t)size * size * 4, size, size, size * 4, DS_PIXEL_FORMAT_RGBA8, NULL, &scan) == DS_OK &&
              ds_scan_mask(scan, &mask) == DS_OK,
          "raw scan of plain skin");
    check(mask != NULL && ds_mask_area(mask) == 0, "plain skin: empty mask");
    if (scan && ds_scan_json(scan, &json) == DS_OK) {
        char *text = malloc(json.len + 1);
        if (text) {
            memcpy(text, json.data, json.len);
            text[json.len] = '\0';
            check(strstr(text, "\"source\":\"none\"") != NULL, "plain skin: roi source none");
            check(strstr(text, "\"lesions\":[]") != NULL, "plain skin: no lesions");
            check(strstr(text, "\"features\":null") != NULL && strstr(text, "\"classification\":null") != NULL,
                  "plain skin: nothing measured or classified");
            check(strstr(text, "\"level\":\"unknown\"") != NULL && strstr(text, "\"code\":\"no_lesion\"") != NULL,
                  "plain skin: risk unknown, reason no_lesion");
            check(strstr(text, "\"no_lesion_found\"") != NULL, "plain skin: quality warning no_lesion_found");
            free(text);
        }
    } else {
        check(0, "plain skin: ds_scan_json");
    }
    ds_buffer_free(&json);
    ds_mask_free(mask);
    ds_scan_free(scan);
    free(px);
}

/* --- threads ------------------------------------------------------------------------------- */

struct job {
    const DsEngine *engine;
    const unsigned char *bytes;
    size_t len;
    DsStatus status;
    uint64_t area;
    int error_was_empty;
};

static void *scan_job(void *arg) {
    struct job *job = arg;
    DsScan *scan = NULL;
    DsMask *mask = NULL;
    job->status = ds_scan_encoded(job->engine, job->bytes, job->len, NULL, &scan);
    job->error_was_empty = ds_last_error()[0] == '\0';
    if (job->status == DS_OK && ds_scan_mask(scan, &mask) == DS_OK) job->area = ds_mask_area(mask);
    ds_mask_free(mask);
    ds_scan_free(scan);
    return NULL;
}

static void test_threads(const DsEngine *engine, const unsigned char *jpeg, size_t len, uint64_t expected_area) {
    pthread_t threads[2];
    struct job jobs[2];
    int i, started = 0;
    for (i = 0; i < 2; i++) {
        jobs[i].engine = engine;
        jobs[i].bytes = jpeg;
        jobs[i].len = len;
        jobs[i].status = DS_INTERNAL_ERROR;
        jobs[i].area = 0;
        jobs[i].error_was_empty = 0;
        if (pthread_create(&threads[i], NULL, scan_job, &jobs[i]) == 0) started++;
    }
    /* This thread's failure must not leak into the others' ds_last_error (thread-local). */
    ds_scan_encoded(engine, (const unsigned char *)"x", 1, NULL, NULL);
    for (i = 0; i < started; i++) pthread_join(threads[i], NULL);
    check(started == 2 && jobs[0].status == DS_OK && jobs[1].status == DS_OK, "one engine, two threads scanning at once");
    check(jobs[0].area == expected_area && jobs[1].area == expected_area, "both threads get the single-thread mask area");
    check(jobs[0].error_was_empty && jobs[1].error_was_empty, "ds_last_error is per thread");
}

/* --- bad inputs ---------------------------------------------------------------------------- */

static void test_bad_inputs(const DsEngine *engine, const DsScan *good, const unsigned char *jpeg, size_t len) {
    DsScan *scan = (DsScan *)1;
    DsScanOptions options;
    DsBuffer buf = {0};
    DsMask *mask = (DsMask *)1;
    unsigned char png[128];
    size_t png_len = png_bomb(png);
    static const char garbage[] = "hello, not an image";
    unsigned char small[64 * 48 * 3];
    unsigned char tiny[64];
    memset(small, 200, sizeof small);
    memset(tiny, 0, sizeof tiny);

    check_error(ds_scan_encoded(engine, jpeg, 0, NULL, &scan), DS_IMAGE_ERROR, "empty buffer");
    check(scan == NULL, "a failed scan sets *out to NULL");
    check_error(ds_scan_encoded(engine, NULL, 0, NULL, &scan), DS_IMAGE_ERROR, "NULL bytes with len 0 (empty)");
    check_error(ds_scan_encoded(engine, (const uint8_t *)garbage, sizeof garbage - 1, NULL, &scan), DS_IMAGE_ERROR, "garbage bytes");
    check_error(ds_scan_encoded(engine, jpeg, len / 2, NULL, &scan), DS_IMAGE_ERROR, "truncated JPEG (first half of the sample)");
    check_error(ds_scan_encoded(engine, png, png_len, NULL, &scan), DS_IMAGE_ERROR, "PNG header declaring 100000x100000 pixels");
    check(strstr(ds_last_error(), "limit") != NULL, "the too-large message names the limit");

    check_error(ds_scan_raw(engine, tiny, sizeof tiny, 4, 4, 8, DS_PIXEL_FORMAT_RGBA8, NULL, &scan), DS_IMAGE_ERROR,
                "raw stride smaller than a row");
    check_error(ds_scan_raw(engine, tiny, 60, 4, 4, 16, DS_PIXEL_FORMAT_RGBA8, NULL, &scan), DS_IMAGE_ERROR, "raw buffer too short");
    check_error(ds_scan_raw(engine, tiny, 0, 0, 0, 0, DS_PIXEL_FORMAT_RGBA8, NULL, &scan), DS_IMAGE_ERROR, "raw zero size");
    check_error(ds_scan_raw(engine, tiny, sizeof tiny, 4, 4, 16, 42, NULL, &scan), DS_INVALID_ARGUMENT, "raw pixel format 42");

    memset(&options, 0, sizeof options);
    options.has_box = true;
    options.x0 = 10;
    options.y0 = 10;
    options.x1 = 100; /* the image is 64 wide */
    options.y1 = 40;
    check_error(ds_scan_raw(engine, small, sizeof small, 64, 48, 64 * 3, DS_PIXEL_FORMAT_RGB8, &options, &scan), DS_PROMPT_ERROR,
                "box outside the image");
    options.x0 = 20;
    options.x1 = 10; /* inverted */
    options.y0 = 20;
    options.y1 = 30;
    check_error(ds_scan_raw(engine, small, sizeof small, 64, 48, 64 * 3, DS_PIXEL_FORMAT_RGB8, &options, &scan), DS_PROMPT_ERROR,
                "inverted box");
    options.x0 = NAN;
    options.x1 = 5;
    options.y0 = 0;
    options.y1 = 5;
    check_error(ds_scan_raw(engine, small, sizeof small, 64, 48, 64 * 3, DS_PIXEL_FORMAT_RGB8, &options, &scan), DS_PROMPT_ERROR,
                "NaN box");

    memset(&options, 0, sizeof options);
    options.crop = 7;
    check_error(ds_scan_encoded(engine, jpeg, len, &options, &scan), DS_INVALID_ARGUMENT, "crop value 7 in DsScanOptions");
    options.crop = DS_CROP_AUTO;
    options.mask_mode = 0xFFFFFFFFu;
    check_error(ds_scan_encoded(engine, jpeg, len, &options, &scan), DS_INVALID_ARGUMENT, "mask_mode value 0xFFFFFFFF in DsScanOptions");

    check_error(ds_scan_encoded(NULL, jpeg, len, NULL, &scan), DS_INVALID_ARGUMENT, "scan with a NULL engine");
    check_error(ds_scan_encoded(engine, NULL, 10, NULL, &scan), DS_INVALID_ARGUMENT, "scan with NULL bytes and len 10");
    check_error(ds_scan_encoded(engine, jpeg, len, NULL, NULL), DS_INVALID_ARGUMENT, "scan with a NULL out");
    check_error(ds_scan_raw(engine, NULL, 64, 4, 4, 16, DS_PIXEL_FORMAT_RGBA8, NULL, &scan), DS_INVALID_ARGUMENT, "raw scan with NULL pixels");
    check_error(ds_scan_json(NULL, &buf), DS_INVALID_ARGUMENT, "ds_scan_json(NULL)");
    if (good) check_error(ds_scan_json(good, NULL), DS_INVALID_ARGUMENT, "ds_scan_json with a NULL out");
    if (good) check_error(ds_scan_mask(good, NULL), DS_INVALID_ARGUMENT, "ds_scan_mask with a NULL out");
    check_error(ds_scan_mask(NULL, &mask), DS_INVALID_ARGUMENT, "ds_scan_mask(NULL)");
    check(mask == NULL, "a failed ds_scan_mask sets *out to NULL");
    check_error(ds_mask_png(NULL, &buf), DS_INVALID_ARGUMENT, "ds_mask_png(NULL)");
    check_error(ds_mask_pixels(NULL, &buf), DS_INVALID_ARGUMENT, "ds_mask_pixels(NULL)");
    check(buf.data == NULL && buf.len == 0, "failed buffer calls leave the buffer zeroed");
    check(ds_mask_width(NULL) == 0 && ds_mask_height(NULL) == 0 && ds_mask_area(NULL) == 0, "mask accessors return 0 for NULL");
    ds_engine_free(NULL);
    ds_scan_free(NULL);
    ds_mask_free(NULL);
    ds_buffer_free(NULL);
    check(1, "every *_free accepts NULL");
}

/* --- lesion history ------------------------------------------------------------------------- */

/* A buffer's bytes as a NUL-terminated string (the caller frees it); NULL on failure. */
static char *buffer_text(const DsBuffer *buf) {
    char *text = malloc(buf->len + 1);
    if (!text) return NULL;
    if (buf->len) memcpy(text, buf->data, buf->len);
    text[buf->len] = '\0';
    return text;
}

/* The number after `"key":` in JSON text (the first one after `from`); NAN when absent. */
static double json_number(const char *from, const char *key) {
    char pattern[64];
    const char *at;
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    at = from ? strstr(from, pattern) : NULL;
    return at ? strtod(at + strlen(pattern), NULL) : NAN;
}

static void remove_tree(const char *dir) {
    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) printf("     (could not remove %s)\n", dir);
}

/* Opening, keys, locking and bad arguments: no scan, so the quick set (valgrind) runs it. */
static void test_history_errors(const DsEngine *engine) {
    char dir[] = "/tmp/dermscan-c-history-XXXXXX";
    char path[600];
    unsigned char key[32], wrong[32];
    DsHistory *history = (DsHistory *)1, *other = (DsHistory *)1;
    DsBuffer buf = {0};
    size_t i;
    for (i = 0; i < sizeof key; i++) {
        key[i] = (unsigned char)i;
        wrong[i] = (unsigned char)(255 - i);
    }
    if (!mkdtemp(dir)) {
        check(0, "mkdtemp for the history store");
        return;
    }
    snprintf(path, sizeof path, "%s/store", dir);
    check_error(ds_history_open(NULL, NULL, 0, &history), DS_INVALID_ARGUMENT, "history open with a NULL dir");
    check(history == NULL, "a failed ds_history_open sets *out to NULL");
    check_error(ds_history_open(path, key, 16, &history), DS_INVALID_ARGUMENT, "history open with a 16-byte key");
    check_error(ds_history_open(path, NULL, 32, &history), DS_INVALID_ARGUMENT, "history open with a NULL key and key_len 32");
    check_error(ds_history_open(path, NULL, 0, NULL), DS_INVALID_ARGUMENT, "history open with a NULL out");
    check(ds_history_open(path, key, 32, &history) == DS_OK && history != NULL, "open an encrypted history store");
    check_error(ds_history_open(path, key, 32, &other), DS_STORE_LOCKED, "a second open of the same store");
    check_error(ds_history_compare_json(history, "nowhere", &buf), DS_LESION_NOT_FOUND, "compare an unknown label");
    check(buf.data == NULL && buf.len == 0, "a failed compare leaves the buffer zeroed");
    snprintf(path, sizeof path, "%s/report.html", dir);
    check_error(ds_history_write_report(history, "nowhere", path), DS_LESION_NOT_FOUND, "report on an unknown label");
    check_error(ds_history_add_scan(history, NULL, "x", (const uint8_t *)"x", 1, 0, 0, &buf), DS_INVALID_ARGUMENT,
                "history add_scan with a NULL engine");
    check_error(ds_history_add_scan(history, engine, NULL, (const uint8_t *)"x", 1, 0, 0, &buf), DS_INVALID_ARGUMENT,
                "history add_scan with a NULL label");
    check_error(ds_history_add_scan(history, engine, "x", (const uint8_t *)"x", 1, 0, 0, NULL), DS_INVALID_ARGUMENT,
                "history add_scan with a NULL out");
    check_error(ds_history_add_scan(history, engine, "garbage", (const uint8_t *)"not an image", 12, 0, 0, &buf), DS_IMAGE_ERROR,
                "history add_scan of bytes that are not an image");
    check_error(ds_history_compare_json(history, "garbage", &buf), DS_LESION_NOT_FOUND, "a failed add_scan adds no lesion");
    check_error(ds_history_compare_json(NULL, "x", &buf), DS_INVALID_ARGUMENT, "compare with a NULL history");
    ds_history_free(history);
    history = (DsHistory *)1;
    snprintf(path, sizeof path, "%s/store", dir);
    check_error(ds_history_open(path, wrong, 32, &history), DS_STORE_WRONG_KEY, "open with the wrong key");
    check_error(ds_history_open(path, NULL, 0, &history), DS_STORE_KEY_REQUIRED, "open an encrypted store without a key");
    check(ds_history_open(path, key, 32, &history) == DS_OK, "the right key still opens it");
    ds_history_free(history);
    ds_history_free(NULL);
    remove_tree(dir);
}

/* Two scans of one lesion 60 days apart (a dark disc, then a larger one at the same scale),
 * the change, the report, and the scans kept across a close and reopen. */
static void test_history(const DsEngine *engine) {
    char dir[] = "/tmp/dermscan-c-history-XXXXXX";
    char store[600], report[600], line[256];
    unsigned char key[32];
    unsigned char *rgba1 = skin_with_disc(256, 256, 40), *rgba2 = skin_with_disc(256, 256, 50);
    size_t len1 = 0, len2 = 0, html_len = 0, i;
    unsigned char *png1 = rgba1 ? png_rgb(rgba1, 256, 256, &len1) : NULL;
    unsigned char *png2 = rgba2 ? png_rgb(rgba2, 256, 256, &len2) : NULL;
    unsigned char *html = NULL;
    DsHistory *history = NULL;
    DsBuffer buf = {0};
    char *text = NULL;
    const int64_t t0 = 1700000000;
    double ratio = NAN, iou = NAN;

    for (i = 0; i < sizeof key; i++) key[i] = (unsigned char)(i * 3);
    if (!png1 || !png2 || !mkdtemp(dir)) {
        check(0, "history test set-up");
        goto done;
    }
    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(report, sizeof report, "%s/report.html", dir);
    check(ds_history_open(store, key, 32, &history) == DS_OK, "open a new encrypted history store");

    check(ds_history_add_scan(history, engine, "left shoulder", png1, len1, t0, 0.1f, &buf) == DS_OK, "history: add the first scan");
    text = buffer_text(&buf);
    check(text && strstr(text, "\"label\":\"left shoulder\"") && strstr(text, "\"change\":null") && strstr(text, ds_not_a_diagnosis()),
          "first scan JSON: the new lesion, no change, the disclaimer");
    free(text);
    ds_buffer_free(&buf);

    check(ds_history_add_scan(history, engine, "left shoulder", png2, len2, t0 + 60 * 86400, 0.1f, &buf) == DS_OK,
          "history: add a second scan 60 days later");
    text = buffer_text(&buf);
    if (text) {
        const char *change = strstr(text, "\"change\":{");
        ratio = json_number(change, "area_ratio");
        iou = json_number(change, "iou_aligned");
        printf("     larger disc after 60 days: area_ratio %.3f, iou_aligned %.3f, significant %s\n", ratio, iou,
               change && strstr(change, "\"significant\":true") ? "true" : "false");
        check(change != NULL && strstr(text, "\"days_between\":60") != NULL, "second scan JSON has the change over 60 days");
        snprintf(line, sizeof line, "area ratio %.3f is about (50/40)^2 = 1.56 and the overlap %.3f about 1/1.56", ratio, iou);
        check(ratio > 1.3 && ratio < 1.9 && iou > 0.5 && iou < 0.8, line);
        check(change && strstr(change, "\"significant\":true") && strstr(change, "\"area_growth\""), "the growth is significant (area_growth)");
        check(strstr(text, "\"code\":\"evolution\",\"level\":\"high\"") != NULL, "the stored risk has a high evolution reason");
        check(strstr(text, "\"scale_normalised\":true") != NULL && strstr(text, "\"diameter_unit\":\"mm\"") != NULL,
              "sizes compared in mm (both scans have a scale)");
    }
    free(text);
    ds_buffer_free(&buf);

    check(ds_history_compare_json(history, "left shoulder", &buf) == DS_OK, "ds_history_compare_json");
    text = buffer_text(&buf);
    check(text && fabs(json_number(strstr(text, "\"change\":{"), "area_ratio") - ratio) < 1e-9, "the latest change is the one add_scan returned");
    free(text);
    ds_buffer_free(&buf);

    check(ds_history_write_report(history, "left shoulder", report) == DS_OK, "ds_history_write_report");
    html = read_file(report, &html_len);
    text = html ? malloc(html_len + 1) : NULL;
    if (text) {
        memcpy(text, html, html_len);
        text[html_len] = '\0';
    }
    check(text && strncmp(text, "<!DOCTYPE html", 14) == 0 && strstr(text, ds_not_a_diagnosis()) && strstr(text, "data:image/png;base64,"),
          "the report is HTML with the disclaimer and embedded PNG pictures");
    free(text);
    free(html);

    ds_history_free(history);
    history = NULL;
    check(ds_history_open(store, key, 32, &history) == DS_OK && ds_history_compare_json(history, "left shoulder", &buf) == DS_OK,
          "reopened with the key, the change is still there");
    text = buffer_text(&buf);
    check(text && fabs(json_number(strstr(text, "\"change\":{"), "area_ratio") - ratio) < 1e-9, "same change after reopening");
    free(text);
    ds_buffer_free(&buf);
    ds_history_free(history);
    remove_tree(dir);
done:
    free(rgba1);
    free(rgba2);
    free(png1);
    free(png2);
}

static void test_panic(void) {
    DsStatus status;
    printf("     (Rust prints the expected panic message of ds_self_test_panic on stderr)\n");
    fflush(stdout);
    status = ds_self_test_panic();
    check_error(status, DS_INTERNAL_ERROR, "ds_self_test_panic returns DS_INTERNAL_ERROR");
    check(strstr(ds_last_error(), "self-test panic") != NULL, "the panic message is in ds_last_error");
}

/* Progress reports of one scan, and the switch a second thread trips once the encoder runs. */
struct progress_log {
    int count;
    uint32_t stages[32];
    float fractions[32];
    atomic_int encoding;
    DsCancel *cancel;
};

static void on_progress(void *user_data, uint32_t stage, float fraction) {
    struct progress_log *log = user_data;
    if (log->count < 32) {
        log->stages[log->count] = stage;
        log->fractions[log->count] = fraction;
        log->count++;
    }
    if (stage == DS_STAGE_ENCODE) atomic_store(&log->encoding, 1);
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void *cancel_while_encoding(void *arg) {
    struct progress_log *log = arg;
    int waited = 0;
    while (!atomic_load(&log->encoding) && waited++ < 30000) sleep_ms(1);
    sleep_ms(50); /* well inside the encoder run */
    ds_cancel(log->cancel);
    return NULL;
}

/* The C options other languages have: progress, cancellation from another thread, the scale
 * and the patient metadata (seen by the classifier). */
static void test_control_scale_and_metadata(const unsigned char *jpeg, size_t len) {
    DsEngine *engine = NULL;
    DsScan *scan = NULL;
    DsBuffer json = {0};
    DsScanOptions options;
    struct progress_log log;
    pthread_t canceller;
    char *text;
    int i, ordered = 1;

    check(ds_engine_new_with_classifier(model_dir, "models/ham10000-xception", NULL, 2, &engine) == DS_OK,
          "engine with the classifier");
    if (!engine) return;
    memset(&log, 0, sizeof log);
    memset(&options, 0, sizeof options);
    options.has_scale = true;
    options.mm_per_px = 0.05f;
    options.has_age = true;
    options.age_years = 45.0f;
    options.sex = DS_SEX_FEMALE;
    options.body_site = "arm";
    options.progress = on_progress;
    options.progress_user_data = &log;
    check(ds_scan_encoded(engine, jpeg, len, &options, &scan) == DS_OK && ds_scan_json(scan, &json) == DS_OK,
          "scan with scale, metadata and a progress callback");
    text = buffer_text(&json);
    check(text && fabs(json_number(text, "mm_per_px") - 0.05) < 1e-6 && !isnan(json_number(text, "diameter_mm")),
          "the scale is in the report (mm_per_px 0.05, a diameter in mm)");
    check(text && json_number(text, "age_years") == 45.0 && strstr(text, "\"sex\":\"female\"") && strstr(text, "\"site\":\"arm\""),
          "the classifier saw the metadata (age 45, female, arm)");
    for (i = 1; i < log.count; i++) ordered &= log.fractions[i] >= log.fractions[i - 1];
    check(log.count >= 4 && log.stages[0] == DS_STAGE_FIND_LESION && log.stages[log.count - 1] == DS_STAGE_DONE && ordered,
          "progress: FIND_LESION first, DONE last, fractions never go back");
    free(text);
    ds_buffer_free(&json);
    ds_scan_free(scan);
    scan = NULL;

    options.sex = 7;
    check_error(ds_scan_encoded(engine, jpeg, len, &options, &scan), DS_INVALID_ARGUMENT, "sex 7");
    options.sex = DS_SEX_MALE;
    options.body_site = "moon";
    check_error(ds_scan_encoded(engine, jpeg, len, &options, &scan), DS_INVALID_ARGUMENT, "body site \"moon\"");
    options.body_site = NULL;
    options.age_years = 300.0f;
    check_error(ds_scan_encoded(engine, jpeg, len, &options, &scan), DS_INVALID_ARGUMENT, "age 300");
    options.has_age = false;

    /* Cancel from a second thread while the encoder runs. */
    memset(&log, 0, sizeof log);
    check(ds_cancel_new(&log.cancel) == DS_OK, "ds_cancel_new");
    options.cancel = log.cancel;
    if (pthread_create(&canceller, NULL, cancel_while_encoding, &log) == 0) {
        check_error(ds_scan_encoded(engine, jpeg, len, &options, &scan), DS_CANCELLED, "a scan cancelled from another thread while encoding");
        pthread_join(canceller, NULL);
        check(scan == NULL && log.stages[log.count - 1] != DS_STAGE_DONE, "the cancelled scan returned nothing and never reached DONE");
    }
    check_error(ds_cancel(NULL), DS_INVALID_ARGUMENT, "ds_cancel(NULL)");
    ds_cancel_free(log.cancel);
    ds_cancel_free(NULL);
    ds_engine_free(engine);
}

int main(int argc, char **argv) {
    int quick = 0, i;
    DsEngine *engine = NULL;
    DsScan *disc_scan = NULL, *sample_scan = NULL;
    DsScanOptions disc = disc_options(256);
    size_t len = 0, png_len = 0;
    unsigned char *jpeg = read_file(SAMPLE, &len);
    unsigned char *rgba = skin_with_disc(256, 256, 256 / 6);
    unsigned char *png = rgba ? png_rgb(rgba, 256, 256, &png_len) : NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            model_dir = argv[++i];
        } else {
            fprintf(stderr, "usage: test_dermscan [--quick] [--model DIR]\n");
            return 2;
        }
    }
    printf("dermscan %s, C API tests%s, model %s\n", ds_version(), quick ? " (quick)" : "", model_dir);
    if (!jpeg || !png) {
        printf("FAIL cannot read %s: run from the repository root\n", SAMPLE);
        return 2;
    }
    check(ds_version()[0] != '\0', "ds_version");
    check(strstr(ds_not_a_diagnosis(), "not a medical diagnosis") != NULL, "ds_not_a_diagnosis");

    test_engine_errors();

    /* One intra-op thread in the quick set: under valgrind, which runs one thread at a time, a
     * second ONNX Runtime worker only spins. */
    check(ds_engine_new(model_dir, NULL, quick ? 1 : 2, &engine) == DS_OK && engine != NULL, "open the engine");
    if (!engine) {
        printf("%d passed, %d failed\n", passes, failures);
        return 1;
    }

    /* A 256x256 PNG (made above) with the lesion's box: the quick set's one scan from bytes. */
    disc_scan = test_scan(engine, "a 256x256 PNG with a dark disc, box given", png, png_len, &disc, 256, 256, "user");
    if (disc_scan) {
        DsMask *mask = NULL;
        check(ds_scan_mask(disc_scan, &mask) == DS_OK && mask_pixel(mask, 128, 128) == 255, "the disc's centre pixel is 255");
        ds_mask_free(mask);
        test_reprompt(engine, disc_scan);
    }
    test_bad_inputs(engine, disc_scan, jpeg, len);
    test_panic();
    test_raw(engine, 256, 1, "after the panic, a raw RGBA scan (256x256, box given) still works");
    test_yuv(engine);
    test_history_errors(engine);

    if (!quick) {
        uint64_t area = 0;
        sample_scan = test_scan(engine, SAMPLE, jpeg, len, NULL, 1528, 1360, "auto");
        if (sample_scan) {
            DsMask *mask = NULL;
            if (ds_scan_mask(sample_scan, &mask) == DS_OK) area = ds_mask_area(mask);
            ds_mask_free(mask);
            test_reprompt(engine, sample_scan);
        }
        test_raw(engine, 256, 0, "raw RGBA scan of a 256x256 skin image with a dark disc, lesion finder's box");
        test_control_scale_and_metadata(jpeg, len);
        /* Not in the quick (valgrind) set, like the other lesion-finder scans: valgrind 3.19
         * cannot decode an AVX2 instruction of fast_image_resize's f32 path. */
        test_no_lesion(engine);
        test_threads(engine, jpeg, len, area);
        test_history(engine);
    }

    ds_scan_free(disc_scan);
    ds_scan_free(sample_scan);
    ds_engine_free(engine);
    free(jpeg);
    free(rgba);
    free(png);
    printf("%d passed, %d failed\n", passes, failures);
    return failures == 0 ? 0 : 1;
}
