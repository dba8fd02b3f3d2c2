"""The web app in headless Chromium (Selenium + chromedriver) against the real stack."""
