// The sample Windows service (pure): the seed's PowerShell web server, on Windows nodes.
/** Windows Server Core matching the host build (Windows Server 2022 = ltsc2022). */
export const SAMPLE_IMAGE = "mcr.microsoft.com/windows/servercore:ltsc2022";
