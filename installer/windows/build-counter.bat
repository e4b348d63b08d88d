@echo off
rem Builds the Windows counter bundle on a Windows machine (PyInstaller cannot cross-build):
rem   dist\lanpos-counter\lanpos-counter.exe  and  dist\lanpos-counter-VERSION-windows.zip
rem Needs Python 3.11+ (python.org, "py" launcher) and a clone of the repository.
rem Run from anywhere:  installer\windows\build-counter.bat
setlocal
cd /d "%~dp0..\.."
if not exist .venv\Scripts\python.exe (
  py -3 -m venv .venv || exit /b 1
)
.venv\Scripts\python.exe -m pip install -q --upgrade pip || exit /b 1
.venv\Scripts\python.exe -m pip install -q -e ".[dev]" || exit /b 1
.venv\Scripts\python.exe -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build\pyinstaller-counter installer\counter.spec || exit /b 1
copy /y installer\windows\counter-install.ps1 dist\lanpos-counter\ >nul
copy /y installer\windows\counter-install.bat dist\lanpos-counter\ >nul
for /f "usebackq delims=" %%v in (`.venv\Scripts\python.exe -c "import importlib.metadata as m; print(m.version('lanpos'))"`) do set VERSION=%%v
powershell.exe -NoProfile -Command "Compress-Archive -Force -Path dist\lanpos-counter -DestinationPath dist\lanpos-counter-%VERSION%-windows.zip" || exit /b 1
echo [lanpos] bundle: dist\lanpos-counter\lanpos-counter.exe
echo [lanpos] archive: dist\lanpos-counter-%VERSION%-windows.zip
echo [lanpos] on a counter PC: unzip, then run counter-install.bat lanpos-counter-%VERSION%-windows.zip -Autostart
