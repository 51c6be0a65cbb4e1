#include <stdio.h>
#include <stdlib.h>

#include "dermscan.h"

int main(void) {
    DsEngine *engine = NULL;
    DsScan *scan = NULL;
    DsBuffer json = {0};
    unsigned char *bytes = malloc(8 << 20);
    FILE *f = fopen("assets/samples/forearm-nevi.jpg", "rb");
    size_t len = f && bytes ? fread(bytes, 1, 8 << 20, f) : 0;
    if (f) fclose(f);

    /* NULL runtime: DERMSCAN_ORT_LIB, then scripts/setup's copy; 0 threads: the default. */
    if (ds_engine_new("models/litemedsam", NULL, 2, &engine) != DS_OK ||
        ds_scan_encoded(engine, bytes, len, NULL, &scan) != DS_OK ||
        ds_scan_json(scan, &json) != DS_OK) {
        fprintf(stderr, "scan failed: %s\n", ds_last_error());
        return 1;
    }
    printf("%.*s\n%s\n", (int)json.len, (const char *)json.data, ds_not_a_diagnosis());

    ds_buffer_free(&json); /* every free accepts NULL */
    ds_scan_free(scan);
    ds_engine_free(engine);
    free(bytes);
    return 0;
}
