<?php
// Moodle's config.php for PLC Bridge's tests: every value comes from the environment of the PHP process (the
// built-in server and the CLI scripts), so that one unpacked Moodle serves any test session's database and port.
unset($CFG);
global $CFG;
$CFG = new stdClass();

$CFG->dbtype    = 'pgsql';
$CFG->dblibrary = 'native';
$CFG->dbhost    = getenv('PLC_MOODLE_DBHOST') ?: '127.0.0.1';
$CFG->dbname    = getenv('PLC_MOODLE_DBNAME');
$CFG->dbuser    = getenv('PLC_MOODLE_DBUSER') ?: 'postgres';
$CFG->dbpass    = '';
$CFG->prefix    = 'mdl_';
$CFG->dboptions = ['dbpersist' => 0, 'dbport' => 5432, 'dbsocket' => ''];

$CFG->wwwroot   = getenv('PLC_MOODLE_WWWROOT');
$CFG->dataroot  = getenv('PLC_MOODLE_DATAROOT');
$CFG->admin     = 'admin';
$CFG->directorypermissions = 02777;

// Moodle refuses outgoing calls to 127.0.0.1 and to ports other than 80/443 by default: LTI must fetch the tool's
// keyset and answer its registration calls. PHP's built-in server has no path info. No e-mail leaves the tests.
$CFG->curlsecurityblockedhosts = '';
$CFG->curlsecurityallowedport = '';
$CFG->slasharguments = 0;
$CFG->noemailever = true;
$CFG->lang = 'en';

require_once(__DIR__ . '/lib/setup.php');
