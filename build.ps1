# VtpmStack build entry point for PowerShell (Linux pwsh). Same verbs as build.sh: build, run, test, bench.
param([string]$Verb = "build")
$ErrorActionPreference = "Stop"
Set-Location $PSScriptRoot
& bash ./build.sh $Verb @args
exit $LASTEXITCODE
