/*
 * Scans one photo with the Derm-Scan C API.
 *
 *     scan [IMAGE] [MODEL_DIR] [MASK_PNG]
 *
 * Defaults: assets/samples/forearm-nevi.jpg, models/litemedsam, mask.png (run from the
 * repository root). Prints the scan as JSON, writes the mask as a PNG file, then re-prompts
 * on the kept embedding with the lesion's box grown by 20 pixels (only the decoder runs).
 *
 * Derm-Scan is a screening aid, not a diagnosis: show ds_not_a_diagnosis() with every result.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dermscan.h"

/* Reports a failed call and its message; returns 1 so that main can `return fail(...)`. */
static int fail(const char *what, DsStatus status) {
    fprintf(stderr, "%s failed (status %d): %s\n", what, (int)status, ds_last_error());
    return 1;
}

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long size;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)size)) != NULL) {
        if (fread(data, 1, (size_t)size, f) == (size_t)size) {
            *len = (size_t)size;
        } else {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

/* The box around the mask's lesion pixels (x1, y1 exclusive); 0 when the mask is empty. */
static int lesion_box(const DsMask *mask, float box[4]) {
    DsBuffer pixels = {0};
    uint32_t w = ds_mask_width(mask), h = ds_mask_height(mask), x, y;
    uint32_t x0 = w, y0 = h, x1 = 0, y1 = 0;
    if (ds_mask_pixels(mask, &pixels) != DS_OK) return 0;
    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            if (pixels.data[(size_t)y * w + x] == 255) {
                if (x < x0) x0 = x;
                if (y < y0) y0 = y;
                if (x >= x1) x1 = x + 1;
                if (y >= y1) y1 = y + 1;
            }
        }
    }
    ds_buffer_free(&pixels);
    box[0] = (float)x0;
    box[1] = (float)y0;
    box[2] = (float)x1;
    box[3] = (float)y1;
    return x1 > 0;
}

int main(int argc, char **argv) {
    const char *image_path = argc > 1 ? argv[1] : "assets/samples/forearm-nevi.jpg";
    const char *model_dir = argc > 2 ? argv[2] : "models/litemedsam";
    const char *mask_path = argc > 3 ? argv[3] : "mask.png";
    DsEngine *engine = NULL;
    DsScan *scan = NULL;
    DsMask *mask = NULL, *refined = NULL;
    DsBuffer json = {0}, png = {0};
    DsStatus status;
    size_t len = 0;
    unsigned char *bytes;
    float box[4];
    FILE *out;

    printf("Derm-Scan %s\n", ds_version());

    /* 1. Open the engine (NULL runtime: DERMSCAN_ORT_LIB, then scripts/setup's copy). */
    status = ds_engine_new(model_dir, NULL, 2, &engine);
    if (status != DS_OK) return fail("ds_engine_new", status);

    /* 2. Scan the photo's bytes with the default options (the lesion finder picks the box). */
    bytes = read_file(image_path, &len);
    if (!bytes) {
        fprintf(stderr, "cannot read %s\n", image_path);
        ds_engine_free(engine);
        return 1;
    }
    status = ds_scan_encoded(engine, bytes, len, NULL, &scan);
    free(bytes); /* the SDK copied what it needed */
    if (status != DS_OK) {
        ds_engine_free(engine);
        return fail("ds_scan_encoded", status);
    }

    /* 3. The result as JSON (not NUL-terminated: print it with its length). */
    if (ds_scan_json(scan, &json) == DS_OK) printf("%.*s\n", (int)json.len, (const char *)json.data);
    ds_buffer_free(&json);

    /* 4. The mask as a PNG file. */
    if (ds_scan_mask(scan, &mask) == DS_OK && ds_mask_png(mask, &png) == DS_OK && (out = fopen(mask_path, "wb")) != NULL) {
        fwrite(png.data, 1, png.len, out);
        fclose(out);
        printf("mask: %ux%u, %llu lesion pixels, written to %s\n", ds_mask_width(mask), ds_mask_height(mask),
               (unsigned long long)ds_mask_area(mask), mask_path);
    }
    ds_buffer_free(&png);

    /* 5. Re-prompt with a box on the kept embedding: the encoder does not run again. Here the
     *    lesion's box grown by 20 pixels (kept inside the photo); in an app, the user's box. */
    if (lesion_box(mask, box)) {
        float x0 = box[0] > 20 ? box[0] - 20 : 0, y0 = box[1] > 20 ? box[1] - 20 : 0;
        float x1 = box[2] + 20 < (float)ds_mask_width(mask) ? box[2] + 20 : (float)ds_mask_width(mask);
        float y1 = box[3] + 20 < (float)ds_mask_height(mask) ? box[3] + 20 : (float)ds_mask_height(mask);
        status = ds_reprompt_box(engine, scan, x0, y0, x1, y1, &refined);
        if (status == DS_OK) {
            printf("re-prompted with box [%.0f, %.0f, %.0f, %.0f]: %llu lesion pixels\n", x0, y0, x1, y1,
                   (unsigned long long)ds_mask_area(refined));
        } else {
            fail("ds_reprompt_box", status);
        }
    }

    printf("%s\n", ds_not_a_diagnosis());

    /* 6. Free everything (each free accepts NULL). */
    ds_mask_free(refined);
    ds_mask_free(mask);
    ds_scan_free(scan);
    ds_engine_free(engine);
    return 0;
}
