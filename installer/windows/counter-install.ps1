# Installs the counter bundle (shou yin tai) on Windows for the current user - no administrator needed.
#
#   counter-install.bat lanpos-counter-VERSION-windows.zip [-Autostart]
#   counter-install.bat -NoAutostart     stop starting with the session
#   counter-install.bat -Uninstall       remove the program and its shortcuts
#
# (counter-install.bat runs this script with "-ExecutionPolicy Bypass"; from PowerShell:
#  powershell -ExecutionPolicy Bypass -File counter-install.ps1 ...). The bundle is a .zip of
# the dist\lanpos-counter folder (installer\windows\build-counter.bat makes it) or that folder.
#
# What it writes:
#   %LOCALAPPDATA%\Programs\lanpos-counter\         the program (a new install replaces it)
#   Start menu and Desktop: "lanpos <counter>" shortcuts (the Chinese name for the counter)
#   Startup folder (shell:startup), with -Autostart: starts when the user logs on
# Settings (server address, counter name) stay in %APPDATA%\lanpos\client.json; the first
# start shows the setup dialog.
#
# The script text is ASCII on purpose (Windows PowerShell 5.1 reads a file without a BOM in the
# ANSI code page): the Chinese shortcut name is built from its code points.

param(
    [Parameter(Position = 0)] [string] $Bundle = "",
    [switch] $Autostart,
    [switch] $NoAutostart,
    [switch] $Uninstall
)

$ErrorActionPreference = "Stop"
$Name = "lanpos-counter"
$Prefix = if ($env:LANPOS_COUNTER_HOME) { $env:LANPOS_COUNTER_HOME } else {
    Join-Path $env:LOCALAPPDATA "Programs\$Name" }
$Exe = Join-Path $Prefix "$Name.exe"
$Title = "lanpos " + [string][char]0x6536 + [char]0x94F6 + [char]0x53F0   # "lanpos" + the three characters of "counter" (shou yin tai)
$Programs = [Environment]::GetFolderPath("Programs")
$Startup = [Environment]::GetFolderPath("Startup")
$Desktop = [Environment]::GetFolderPath("DesktopDirectory")
$MenuLink = Join-Path $Programs "$Title.lnk"
$DesktopLink = Join-Path $Desktop "$Title.lnk"
$StartupLink = Join-Path $Startup "$Title.lnk"

function Say([string] $Text) { Write-Host "[lanpos] $Text" }

function New-Shortcut([string] $Path) {
    $shell = New-Object -ComObject WScript.Shell
    $link = $shell.CreateShortcut($Path)
    $link.TargetPath = $Exe
    $link.WorkingDirectory = $Prefix
    $link.IconLocation = "$Exe,0"
    $link.Description = $Title
    $link.Save()
}

function Remove-IfThere([string] $Path) {
    if (Test-Path -LiteralPath $Path) { Remove-Item -LiteralPath $Path -Recurse -Force }
}

if ($Uninstall) {
    Remove-IfThere $MenuLink
    Remove-IfThere $DesktopLink
    Remove-IfThere $StartupLink
    Remove-IfThere $Prefix
    Say "removed $Prefix and its shortcuts (settings kept in $env:APPDATA\lanpos)"
    exit 0
}

if (-not $Bundle) {
    if ($NoAutostart) { Remove-IfThere $StartupLink; Say "no longer starts with the session"; exit 0 }
    if ($Autostart -and (Test-Path -LiteralPath $Exe)) {
        New-Shortcut $StartupLink; Say "starts with the session: $StartupLink"; exit 0 }
    Write-Error "usage: counter-install.bat BUNDLE.zip [-Autostart] | -NoAutostart | -Uninstall"
}

$Bundle = (Resolve-Path -LiteralPath $Bundle).Path
$parent = Split-Path -Parent $Prefix
New-Item -ItemType Directory -Force -Path $parent | Out-Null
$stage = Join-Path $parent (".$Name.new." + [guid]::NewGuid().ToString("N"))
try {
    if ((Get-Item -LiteralPath $Bundle).PSIsContainer) {
        New-Item -ItemType Directory -Path $stage | Out-Null
        Copy-Item -LiteralPath $Bundle -Destination (Join-Path $stage $Name) -Recurse
    } else {
        Expand-Archive -LiteralPath $Bundle -DestinationPath $stage
    }
    $new = Join-Path $stage $Name
    if (-not (Test-Path -LiteralPath (Join-Path $new "$Name.exe"))) {
        throw "$Bundle is not a counter bundle (no $Name\$Name.exe inside)"
    }
    # the running counter holds its files open: ask to close it first
    if (Get-Process -Name $Name -ErrorAction SilentlyContinue) {
        throw "the counter program is running: close it (F12 / quit) and run this again"
    }
    Remove-IfThere $Prefix
    Move-Item -LiteralPath $new -Destination $Prefix
} finally {
    Remove-IfThere $stage
}

New-Shortcut $MenuLink
New-Shortcut $DesktopLink
if ($Autostart) { New-Shortcut $StartupLink }
elseif ($NoAutostart) { Remove-IfThere $StartupLink }
elseif (Test-Path -LiteralPath $StartupLink) { New-Shortcut $StartupLink }

Say "installed $Exe"
Say "shortcuts: $MenuLink, $DesktopLink"
if (Test-Path -LiteralPath $StartupLink) { Say "starts with the session: $StartupLink" }

# does it start here? (offscreen: no window shown)
$env:QT_QPA_PLATFORM = "offscreen"
$check = Start-Process -FilePath $Exe -ArgumentList "--check" -Wait -PassThru -WindowStyle Hidden
Remove-Item Env:QT_QPA_PLATFORM
if ($check.ExitCode -ne 0) {
    Write-Error "the counter program does not start on this machine (--check exit $($check.ExitCode))"
}
Say "check: ok. First start: enter the server address (e.g. 192.168.1.10:8600) and the counter name"
