// Transitional: the engine's own forms of these Part 2 types predate the generated layer (Vtpm.Wire.Tpm2). Until
// their commands are ported onto the generated types, these names mean the engine's forms inside Vtpm.Tpm2.
global using TpmsNvPublic = Vtpm.Tpm2.Subsystems.TpmsNvPublic;
global using TpmaNv = Vtpm.Tpm2.Subsystems.TpmaNv;
global using TpmNt = Vtpm.Tpm2.Subsystems.TpmNt;
global using TpmaSession = Vtpm.Tpm2.Dispatch.TpmaSession;
