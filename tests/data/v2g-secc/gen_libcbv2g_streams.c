/* SPDX-License-Identifier: Apache-2.0 */
/* Generator of libcbv2g_full_lists.txt (see README.md); not built by the tests. */
#include <stdio.h>
#include <string.h>
#include "cbv2g/common/exi_bitstream.h"
#include "cbv2g/iso_20/iso20_CommonMessages_Datatypes.h"
#include "cbv2g/iso_20/iso20_CommonMessages_Encoder.h"

static struct iso20_exiDocument doc;
static uint8_t buf[8192];

static void header(struct iso20_MessageHeaderType* h) {
    const uint8_t id[8] = {0x3D,0x4C,0xBF,0x93,0x37,0x4E,0xD8,0x9B};
    memcpy(h->SessionID.bytes, id, 8); h->SessionID.bytesLen = 8;
    h->TimeStamp = 1725456327; h->Signature_isUsed = 0;
}

static void emit(const char* label) {
    exi_bitstream_t s;
    exi_bitstream_init(&s, buf, sizeof buf, 0, NULL);
    int err = encode_iso20_exiDocument(&s, &doc);
    if (err) { printf("%s ERROR %d\n", label, err); return; }
    size_t n = exi_bitstream_get_length(&s);
    printf("%s ", label);
    for (size_t i = 0; i < n; i++) printf("%02x", buf[i]);
    printf("\n");
}

static void schedule(int rules) {
    memset(&doc, 0, sizeof doc);
    init_iso20_exiDocument(&doc);
    doc.ScheduleExchangeReq_isUsed = 1;
    struct iso20_ScheduleExchangeReqType* r = &doc.ScheduleExchangeReq;
    header(&r->Header);
    r->MaximumSupportingPoints = 1024;
    r->Scheduled_SEReqControlMode_isUsed = 1;
    struct iso20_Scheduled_SEReqControlModeType* m = &r->Scheduled_SEReqControlMode;
    m->DepartureTime = 7200; m->DepartureTime_isUsed = 1;
    m->EVEnergyOffer_isUsed = 1;
    struct iso20_EVEnergyOfferType* o = &m->EVEnergyOffer;
    o->EVPowerSchedule.TimeAnchor = 0;
    o->EVPowerSchedule.EVPowerScheduleEntries.EVPowerScheduleEntry.arrayLen = 1;
    o->EVPowerSchedule.EVPowerScheduleEntries.EVPowerScheduleEntry.array[0].Duration = 3600;
    o->EVPowerSchedule.EVPowerScheduleEntries.EVPowerScheduleEntry.array[0].Power.Exponent = 3;
    o->EVPowerSchedule.EVPowerScheduleEntries.EVPowerScheduleEntry.array[0].Power.Value = 10;
    struct iso20_EVAbsolutePriceScheduleType* p = &o->EVAbsolutePriceSchedule;
    p->TimeAnchor = 0;
    strcpy(p->Currency.characters, "EUR"); p->Currency.charactersLen = 3;
    const char* alg = "urn:iso:std:iso:15118:-20:PriceAlgorithm:1-Power";
    strcpy(p->PriceAlgorithm.characters, alg); p->PriceAlgorithm.charactersLen = strlen(alg);
    p->EVPriceRuleStacks.EVPriceRuleStack.arrayLen = 1;
    struct iso20_EVPriceRuleStackType* st = &p->EVPriceRuleStacks.EVPriceRuleStack.array[0];
    st->Duration = 0;
    st->EVPriceRule.arrayLen = rules;
    for (int i = 0; i < rules; i++) {
        st->EVPriceRule.array[i].EnergyFee.Exponent = -2;
        st->EVPriceRule.array[i].EnergyFee.Value = 30 + i;
        st->EVPriceRule.array[i].PowerRangeStart.Exponent = 3;
        st->EVPriceRule.array[i].PowerRangeStart.Value = 50 * i;
    }
    char label[64]; snprintf(label, sizeof label, "ScheduleExchangeReq-%d-EVPriceRules", rules);
    emit(label);
}

static void discovery(int ids) {
    memset(&doc, 0, sizeof doc);
    init_iso20_exiDocument(&doc);
    doc.ServiceDiscoveryReq_isUsed = 1;
    struct iso20_ServiceDiscoveryReqType* r = &doc.ServiceDiscoveryReq;
    header(&r->Header);
    r->SupportedServiceIDs_isUsed = 1;
    r->SupportedServiceIDs.ServiceID.arrayLen = ids;
    for (int i = 0; i < ids; i++) r->SupportedServiceIDs.ServiceID.array[i] = i + 1;
    char label[64]; snprintf(label, sizeof label, "ServiceDiscoveryReq-%d-ServiceIDs", ids);
    emit(label);
}

int main(void) {
    schedule(7); schedule(8);
    discovery(15); discovery(16);
    return 0;
}
