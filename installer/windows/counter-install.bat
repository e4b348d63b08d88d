@echo off
rem Installs the counter bundle for the current user: shortcuts, optional start with the session.
rem   counter-install.bat lanpos-counter-VERSION-windows.zip [-Autostart]
rem   counter-install.bat -NoAutostart     stop starting with the session
rem   counter-install.bat -Uninstall       remove the program and its shortcuts
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0counter-install.ps1" %*
exit /b %ERRORLEVEL%
