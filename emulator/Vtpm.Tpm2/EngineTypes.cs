// Transitional: the engine's own forms of these Part 2 types predate the generated layer (Vtpm.Wire.Tpm2). Until
// their commands are ported onto the generated types, these names mean the engine's forms inside Vtpm.Tpm2.
global using TpmaSession = Vtpm.Tpm2.Dispatch.TpmaSession;
