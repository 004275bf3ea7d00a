/* type_off.h — undoes type_on.h (see there). */
#undef TYPE
#undef GEMM
#undef WS_SLOT
#undef EMGMM_QUADFORM
#undef EMGMM_LOAD64
#undef EMGMM_LOAD32
#undef EMGMM_WROW
#undef EMGMM_FUSED_QF
#undef EMGMM_TRI_QF
#undef EMGMM_TRI_TAIL
#undef EMGMM_MSTAT
#undef EMGMM_MSTAT_PATH
#undef EMGMM_MFOLD
#undef EMGMM_TRI_ISA
#undef EMGMM_MTRI_ISA
#undef EMGMM_TYPE_F64
#undef EMGMM_TYPE_F32
