/*
 * slaledger/version.h: the release version, for --version, the API's health route and logs.
 */
#ifndef SLALEDGER_VERSION_H
#define SLALEDGER_VERSION_H

#define SL_VERSION "0.1.0"

#endif
